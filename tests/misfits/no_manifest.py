"""Has includeme but no manifest."""


def includeme(config):
    pass
