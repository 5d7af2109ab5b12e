"""Bridges to other libraries, each optional and imported only when its module is (never by ``import gan_eval``)."""
