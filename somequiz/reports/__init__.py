"""HR and trainer outputs: read-only views of the records and the content.

``roster`` (HR's roster file and the status of each employee), ``export`` (Excel/CSV),
``xapi`` (statements and LRS delivery), ``dashboard`` (HR figures and the nbconvert report),
``preview``, ``coverage``, ``studio`` and ``review`` (the trainer's views), ``chromium``
(PDF printing). Nothing here writes a learner's record.
"""
