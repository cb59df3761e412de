"""Platform adapters and the message model they produce."""
