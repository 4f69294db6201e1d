"""The course use case: a learner's way through the course and its rules, without any HTML.

``attempt`` signs a learner in (the identity and try rules), opens, answers, retries and
finishes scenarios; ``order`` decides the order of choices a learner sees. The pass rules
themselves are the engine's (``somequiz.engine.scoring``); the UI only renders what this returns.
"""
