"""The use cases behind :mod:`growth_zones.api`: reading application files, the national ranking,
assessing applications, the suitability surface run, re-rendering reports, and writing each
command's output set. Results know the files they write (``OUTPUTS`` and ``write``)."""
