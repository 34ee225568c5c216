"""Matplotlib style sheets shipped with simfunnel.

``plt.style.use("simfunnel.styles.presentation")`` (matplotlib >= 3.7.1) or
`simfunnel.present.style.use_presentation_style()` applies the slide style: large fonts, no top/right spines,
the Okabe-Ito colour-blind-safe palette, a light grid, 150 dpi on screen and 200 dpi when saved.
"""
