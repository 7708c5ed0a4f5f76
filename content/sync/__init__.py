"""Secure distribution of content: TUF (python-tuf) from approvers via the hub to devices,
and the outbox back (docs/sync.md). `client` is the only module that uses ngclient."""
