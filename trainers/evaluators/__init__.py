"""Evaluators: one module each, registered with one line below."""
from trainers.evaluators.base import EVALUATORS, EvalInput, Evaluator, build_evaluators, describe_values, headline
from trainers.evaluators.fid import FeatureDistanceEvaluator, KidEvaluator
from trainers.evaluators.ivom import IvomEvaluator
from trainers.evaluators.modes import ModesEvaluator
from trainers.evaluators.stacked_mnist import StackedMnistEvaluator

# One line per evaluator.
EVALUATORS.add(ModesEvaluator.name, ModesEvaluator)
EVALUATORS.add(StackedMnistEvaluator.name, StackedMnistEvaluator)
EVALUATORS.add(FeatureDistanceEvaluator.name, FeatureDistanceEvaluator)
EVALUATORS.add(KidEvaluator.name, KidEvaluator)
EVALUATORS.add(IvomEvaluator.name, IvomEvaluator)

__all__ = ["EVALUATORS", "EvalInput", "Evaluator", "build_evaluators", "describe_values", "headline"]
