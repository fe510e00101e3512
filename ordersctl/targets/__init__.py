"""Where ordersctl sends: AWS (or an AWS-compatible endpoint) via boto3, or the local bus."""
