"""Inventory function: reserves stock for new orders and releases it for cancelled ones."""
