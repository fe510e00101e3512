"""Audit function: writes every com.example.* event to the order-history table."""
