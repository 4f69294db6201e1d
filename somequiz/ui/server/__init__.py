"""The Voilà server side: ``app`` (our Voilà, its settings and handlers), ``limits`` (kernel and
page-load caps, socket limits), ``browser`` (the signed browser cookie and kernel binding),
``kernel_client`` (runs a page as soon as its kernel answers), ``notebooks`` (the generated
learner notebooks) and ``jupyter/`` (our Voilà page template).
"""
