"""The partnership and funding assistant: core, adapters (Telegram, terminal) and command line."""
