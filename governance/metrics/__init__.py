"""The metrics engine: vectorised NumPy over evidence columns, one module per family.

Conventions match the references the tests compare against to 1e-9: IC is scipy's spearmanr per
day; Sharpe and drawdown follow empyrical on the same daily series.
"""
