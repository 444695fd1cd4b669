"""Reading task logs from wherever they are: this machine, remote storage, or the worker that ran the try."""
