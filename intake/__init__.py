"""Reading what units send: files → raw text grids → located sheets → typed frames."""
