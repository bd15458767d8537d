"""Providers of the ``file_storage`` slot: ``storage_local`` (:mod:`.local`) and ``storage_s3``
(:mod:`.s3`), one plugin each (entry points in setup.cfg)."""
