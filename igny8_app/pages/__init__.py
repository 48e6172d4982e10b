"""Reflex pages: one subpackage per page (or page group), pages/<page>/state.py holds its State
class(es) with thin handlers, the other modules of the package its layout (views)."""
