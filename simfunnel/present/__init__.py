"""Presentation layer: turning results and notebooks into things a person looks at (decks, the what-if explorer)."""
