# SPDX-License-Identifier: GPL-2.0
# Sphinx configuration of the tt_alloc documentation.
#   make htmldocs   (mk/packaging.mk: sphinx-build -W into out/htmldocs)
# Plain Sphinx (python3-sphinx from Debian), no extensions: the pages are
# written in the kernel's reStructuredText style but need none of its
# Sphinx extensions.

import os

_here = os.path.dirname(os.path.abspath(__file__))


def _version():
    try:
        with open(os.path.join(_here, '..', 'VERSION')) as f:
            return f.read().strip()
    except OSError:
        return 'unknown'


project = 'tt_alloc'
author = 'The tt_alloc authors'
copyright = 'The tt_alloc authors; GPL-2.0'
version = release = _version()

extensions = []
master_doc = root_doc = 'index'
source_suffix = {'.rst': 'restructuredtext'}
# ABI/testing/* is the kernel's ABI format (not reStructuredText), and
# nothing outside the toctree belongs to the book.
exclude_patterns = ['ABI', '_build', 'output', 'Thumbs.db', '.DS_Store']
highlight_language = 'none'
language = 'en'
pygments_style = 'sphinx'
html_theme = 'alabaster'
html_title = 'tt_alloc %s documentation' % release
html_static_path = []
html_show_sourcelink = False
smartquotes = False
# -W turns warnings into errors. A literal block that its declared
# language's lexer cannot parse (e.g. JSON abridged with "{...}") is only
# shown without colours: not worth failing the build for.
suppress_warnings = ['misc.highlighting_failure']
