"""Placeholder, filled below."""


def compress():
    raise NotImplementedError


def leaf_indicator_matrix():
    raise NotImplementedError


class CompressionPath:
    pass
