"""Capacity planning: a SimPy model of the fleet and its support organisation, checked against Erlang C.

Modules: ``config`` (the plan schema), ``calendar`` (working days, shifts), ``dispatch``
(engineers and job queues), ``rates`` (fault rates, sources, handlers), ``stream`` (the fault
stream), ``model`` (the SimPy model), ``clauses`` and ``verdict`` (the SLA verdict),
``metrics`` (what a replication measured), ``stats`` (confidence intervals), ``erlang``
(Erlang C and the M/M/c reduction), ``scaling`` (resizing a plan), ``sweep`` (replications on
processes or Dask), ``sizing`` (fewest engineers meeting targets), ``plot`` (matplotlib and
plotext) and ``cli`` (the ``capacity`` command group).
"""
