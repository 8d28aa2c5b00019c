"""Imported last by the local Airflow's forkserver (mfc.local_airflow.PRELOAD), after Cosmos,
dbt, Great Expectations and the library: hides what they allocated from the garbage collector.

Each task is a fork of that process. Cosmos collects garbage after every dbt command, and Python
itself now and then, and each collection would walk the half a million objects the imports made
(a third of a second, every time); frozen, they are never walked, as Airflow does for the workers
it forks itself.
"""

import gc

gc.freeze()
