"""Speed-only code: nothing in this subpackage is needed to follow the book.

Everything here exists because a measurement asked for it, and each piece is tested
against the readable code it replaces.  A reader can skip the whole subpackage.

=====================  ==================================================================
module                 what it speeds up
=====================  ==================================================================
:mod:`.sweep`          training one MLP per seed as a single stacked computation
                       (:func:`~bpkit.fast.sweep.train_mlp_seeds`), bit for bit equal to
                       :func:`bpkit.train.train_mlp` run seed by seed
:mod:`.checks`         the finiteness and range tests that every public function runs on
                       its inputs, with a shortcut for the tiny arrays of the book
=====================  ==================================================================
"""
