"""The cluster registry: every Tandem process is a node row with a heartbeat."""
