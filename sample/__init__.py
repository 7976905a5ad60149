"""A sample 百日攻坚 campaign: the files the units send on 2023-01-29, for demos and tests."""
