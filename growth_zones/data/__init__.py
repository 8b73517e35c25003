"""The data foundation: what each public dataset is (``catalogue``), how it is fetched (``fetch``,
the only network code) and normalised (``loaders``), where it is kept (``store``, with provenance),
what a canonical layer looks like (``schemas``), how coordinates become EPSG:27700 (``crs``), how
files are written safely (``atomic``), and the layers as one object (``layers.LayerSet``).

Nothing here imports indicators, scoring, reports or the use cases.
"""
