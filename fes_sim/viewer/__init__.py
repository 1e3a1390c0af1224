"""Live viewer (``fes view``): sources on their own threads feed a ring buffer; a Qt timer redraws.

Qt-free modules (importable without the ``gui`` extra): :mod:`~fes_sim.viewer.buffer`,
:mod:`~fes_sim.viewer.source` and its backends, :mod:`~fes_sim.viewer.tuning`,
:mod:`~fes_sim.viewer.leg`, :mod:`~fes_sim.viewer.status`, :mod:`~fes_sim.viewer.plot_data`.
The window and its widgets (:mod:`~fes_sim.viewer.window`, ``panels``, ``leg_view``,
``controls``, ``qt_items``) need pyqtgraph and a Qt binding (``pip install '.[gui]'``).
"""
