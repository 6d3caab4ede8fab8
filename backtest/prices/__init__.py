"""Where prices come from and where they are kept: files and Yahoo Finance (``sources``), the local
store (``store``) and what a fetch needs to download (``refresh``)."""
