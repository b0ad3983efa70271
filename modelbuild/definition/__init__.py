"""What a pipeline is: building its definition offline, parsing it as plain data, and checking it."""
