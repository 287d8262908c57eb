"""Training, evaluation and the recipe, in pipeline order.

loop (train_one_epoch, evaluate, fit), finetune (strategies trained fairly), comparison (strategies over seeds,
paired verdicts), recipe (the two-phase recipe for your own images, checkpoints, predictions), evaluation
(per-class results, confusion matrix), results (numbers a later lesson compares with).
May import: models, data and the top-level foundations.
"""
