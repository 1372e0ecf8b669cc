"""One module per stream family; every stream shares one SyncContext."""
