"""`python -m ordersctl` runs the same CLI as the `ordersctl` console script."""

from ordersctl.cli import main

if __name__ == "__main__":
    main()
