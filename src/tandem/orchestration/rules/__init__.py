"""Transition rules: small classes that amend a proposed transition before it is written."""
