"""The ``tandem`` command line. ``main.py`` builds it; each role or noun has a module that
only parses arguments and prints, calling functions of the packages that own the work."""
