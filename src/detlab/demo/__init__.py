"""The main job: a complete workflow on data generated on this machine (see ``detlab demo``)."""

from detlab.demo.dataset_tour import BadInputCase, RoundTrip, TourResult, run_dataset_tour

__all__ = ["BadInputCase", "RoundTrip", "TourResult", "run_dataset_tour"]
