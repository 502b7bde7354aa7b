"""Label sets: sizes, verb/noun split, file round trip, and no numpy/torch dependency."""

import json
import subprocess
import sys

import pytest

from htt_ros.labels import FPHA, H2O, Action, LabelSet, get_label_set


def test_sizes_match_the_datasets():
    assert (len(H2O.actions), len(H2O.objects), H2O.num_joints) == (36, 8, 42)
    assert (len(FPHA.actions), len(FPHA.objects), FPHA.num_joints) == (45, 26, 21)


@pytest.mark.parametrize("labels", [FPHA, H2O])
def test_every_noun_is_a_known_object(labels):
    assert {a.noun for a in labels.actions} <= set(labels.objects)
    assert len(set(labels.action_names)) == len(labels.actions)


def test_verb_noun_split():
    assert H2O.actions[0] == Action("grab book", "grab", "book")
    assert H2O.actions[23] == Action("take out espresso", "take out", "espresso")
    assert H2O.actions[35] == Action("squeeze lotion", "squeeze", "lotion")
    assert FPHA.actions[0] == Action("open_juice_bottle", "open", "juice_bottle")
    assert FPHA.actions[5] == Action("prick", "prick", "fork")  # object not in the name
    assert FPHA.actions[44] == Action("high_five", "high_five", "hand")
    assert FPHA.objects[:5] == ("juice_bottle", "peanut_butter", "fork", "salt", "spoon")
    assert FPHA.objects[-3:] == ("wine_bottle", "wine_glass", "hand")


def test_file_round_trip_and_errors(tmp_path):
    path = tmp_path / "labels.json"
    path.write_text(json.dumps(H2O.to_dict()))
    assert LabelSet.from_file(path) == H2O
    bad = H2O.to_dict() | {"objects": ["book"]}
    path.write_text(json.dumps(bad))
    with pytest.raises(ValueError, match="not in the object list"):
        LabelSet.from_file(path)
    with pytest.raises(ValueError, match="missing the fields"):
        LabelSet.from_dict({"name": "x"})
    with pytest.raises(ValueError, match="built-in label sets"):
        get_label_set("coco")


def test_runtime_modules_import_without_torch():
    # labels and model_card must import with neither numpy nor torch, geometry without torch.
    code = (
        "import sys; sys.modules['torch'] = None; sys.modules['numpy'] = None\n"
        "import htt_ros.labels, htt_ros.model_card\n"
        "del sys.modules['numpy']\n"
        "import htt_ros.geometry\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
