"""Label sets: action names (with their verb/noun split), object names and the joint count.

Sources. FPHA: the 45 action names and their order follow FPHA's ``action_object_info.txt``
(Garcia-Hernando et al., CVPR 2018) as public FPHA loaders list it, checked once; the index is
the file's 1-based index minus one, and objects are numbered in order of first appearance in
that file, as the authors' ``datasets/fhbutils.py`` (fylwen/HTT) numbers them. The object named
for each action is recalled from that file, not yet checked against it (the FPHA reader takes
the names from a data set folder's own file). H2O: the names of H2O's ``action_labels`` (Kwon
et al., ICCV 2021), label minus one, background removed. :meth:`LabelSet.from_file` overrides
them with a JSON file of the same fields as :meth:`LabelSet.to_dict`. This module uses the
standard library only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Action:
    """One action class: its full name and the verb/noun it splits into."""

    name: str
    verb: str
    noun: str


@dataclass(frozen=True)
class LabelSet:
    """Class names of one data set, in the network's output order.

    Parameters:
        name: data set name (``fpha``, ``h2o`` or a custom one).
        actions: one :class:`Action` per action logit.
        objects: one name per object logit; every action's noun must be one of them.
        num_joints: joints per frame the model predicts (21 one hand, 42 two hands).
    """

    name: str
    actions: tuple[Action, ...]
    objects: tuple[str, ...]
    num_joints: int

    def __post_init__(self) -> None:
        unknown = sorted({a.noun for a in self.actions} - set(self.objects))
        if unknown:
            raise ValueError(
                f"label set {self.name!r}: action nouns {unknown} are not in the object list "
                f"{list(self.objects)}; add them to 'objects' or fix the action's noun"
            )
        if len(set(self.objects)) != len(self.objects):
            raise ValueError(f"label set {self.name!r}: object names repeat: {list(self.objects)}")
        if self.num_joints not in (21, 42):
            raise ValueError(
                f"label set {self.name!r}: num_joints is {self.num_joints}, expected 21 or 42"
            )

    @property
    def action_names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.actions)

    def to_dict(self) -> dict[str, Any]:
        """Plain containers (JSON- and ``torch.load(weights_only=True)``-safe)."""
        return {
            "name": self.name,
            "actions": [{"name": a.name, "verb": a.verb, "noun": a.noun} for a in self.actions],
            "objects": list(self.objects),
            "num_joints": self.num_joints,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LabelSet:
        """Inverse of :meth:`to_dict`; raises ``ValueError`` naming a missing field."""
        missing = [k for k in ("name", "actions", "objects", "num_joints") if k not in data]
        if missing:
            raise ValueError(f"label set is missing the fields {missing}")
        try:
            actions = tuple(
                Action(str(a["name"]), str(a["verb"]), str(a["noun"])) for a in data["actions"]
            )
        except (KeyError, TypeError) as err:
            raise ValueError(
                "label set 'actions' must be a list of {name, verb, noun} objects"
            ) from err
        return cls(
            name=str(data["name"]),
            actions=actions,
            objects=tuple(str(o) for o in data["objects"]),
            num_joints=int(data["num_joints"]),
        )

    @classmethod
    def from_file(cls, path: str | Path) -> LabelSet:
        """Read a JSON file holding the fields of :meth:`to_dict`."""
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, json.JSONDecodeError) as err:
            raise ValueError(f"cannot read the label file {path}: {err}") from err
        try:
            return cls.from_dict(data)
        except ValueError as err:
            raise ValueError(f"label file {path}: {err}") from err


# H2O action names in label order (label 1..36; background, label 0, removed).
_H2O_ACTIONS: tuple[str, ...] = (
    *("grab book", "grab espresso", "grab lotion", "grab spray", "grab milk", "grab cocoa"),
    *("grab chips", "grab cappuccino", "place book", "place espresso", "place lotion"),
    *("place spray", "place milk", "place cocoa", "place chips", "place cappuccino"),
    *("open lotion", "open milk", "open chips", "close lotion", "close milk", "close chips"),
    *("pour milk", "take out espresso", "take out cocoa", "take out chips", "take out cappuccino"),
    *("put in espresso", "put in cocoa", "put in cappuccino", "apply lotion", "apply spray"),
    *("read book", "read espresso", "spray spray", "squeeze lotion"),
)


def _h2o() -> LabelSet:
    # Every H2O action name ends with its object: verb = the words before it.
    actions = tuple(Action(n, *n.rsplit(" ", 1)) for n in _H2O_ACTIONS)
    objects = ("book", "espresso", "lotion", "spray", "milk", "cocoa", "chips", "cappuccino")
    return LabelSet("h2o", actions, objects, num_joints=42)


# FPHA (action, object) pairs in action index order.
_FPHA_PAIRS: tuple[tuple[str, str], ...] = (
    ("open_juice_bottle", "juice_bottle"),
    ("close_juice_bottle", "juice_bottle"),
    ("pour_juice_bottle", "juice_bottle"),
    ("open_peanut_butter", "peanut_butter"),
    ("close_peanut_butter", "peanut_butter"),
    ("prick", "fork"),
    ("sprinkle", "salt"),
    ("scoop_spoon", "spoon"),
    ("put_sugar", "spoon"),
    ("stir", "spoon"),
    ("open_milk", "milk"),
    ("close_milk", "milk"),
    ("pour_milk", "milk"),
    ("drink_mug", "mug"),
    ("put_tea_bag", "tea_bag"),
    ("put_salt", "salt"),
    ("open_liquid_soap", "liquid_soap"),
    ("close_liquid_soap", "liquid_soap"),
    ("pour_liquid_soap", "liquid_soap"),
    ("wash_sponge", "sponge"),
    ("flip_sponge", "sponge"),
    ("scratch_sponge", "sponge"),
    ("squeeze_sponge", "sponge"),
    ("open_soda_can", "soda_can"),
    ("use_flash", "spray"),
    ("write", "pen"),
    ("tear_paper", "paper"),
    ("squeeze_paper", "paper"),
    ("open_letter", "letter"),
    ("take_letter_from_enveloppe", "letter"),
    ("read_letter", "letter"),
    ("flip_pages", "book"),
    ("use_calculator", "calculator"),
    ("light_candle", "match"),
    ("charge_cell_phone", "cell_charger"),
    ("unfold_glasses", "glasses"),
    ("clean_glasses", "glasses"),
    ("open_wallet", "wallet"),
    ("give_coin", "coin"),
    ("receive_coin", "coin"),
    ("give_card", "card"),
    ("pour_wine", "wine_bottle"),
    ("toast_wine", "wine_glass"),
    ("handshake", "hand"),
    ("high_five", "hand"),
)


def fpha_verb(action: str, noun: str) -> str:
    """The action name without its object words when the object is named in it ("open_milk" ->
    "open"); otherwise the whole name ("prick" with object "fork" stays "prick")."""
    words, obj = action.split("_"), noun.split("_")
    for i in range(len(words) - len(obj) + 1):
        if words[i : i + len(obj)] == obj and len(words) > len(obj):
            return "_".join(words[:i] + words[i + len(obj) :])
    return action


def _fpha() -> LabelSet:
    actions = tuple(Action(a, fpha_verb(a, o), o) for a, o in _FPHA_PAIRS)
    objects = tuple(dict.fromkeys(o for _, o in _FPHA_PAIRS))  # order of first appearance
    return LabelSet("fpha", actions, objects, num_joints=21)


FPHA: LabelSet = _fpha()
H2O: LabelSet = _h2o()
LABEL_SETS: dict[str, LabelSet] = {"fpha": FPHA, "h2o": H2O}


def get_label_set(name: str) -> LabelSet:
    """Return the built-in label set ``fpha`` or ``h2o``."""
    try:
        return LABEL_SETS[name.lower()]
    except KeyError:
        raise ValueError(
            f"unknown data set {name!r}: built-in label sets are {sorted(LABEL_SETS)}; "
            f"give other data sets' labels with a label file (LabelSet.from_file)"
        ) from None
