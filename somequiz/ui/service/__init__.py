"""The course service processes of the learner server: ``process`` (the socket server and its
workers), ``session`` (one learner's page: routes actions to the course use case) and
``screens`` / ``certificate`` (what the learner sees, as HTML through :mod:`somequiz.ui.render`).
"""
