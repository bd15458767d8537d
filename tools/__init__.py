"""Development tools of the repository (not shipped: setup.cfg packages only ``totetaxi_core``)."""
