"""Training: data sets and trainers for douga's learned models.

Nothing outside this package imports it: the analysis and render paths only load
the weights it exports.
"""
