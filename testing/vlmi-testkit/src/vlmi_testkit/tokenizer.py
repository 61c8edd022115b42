"""A byte-level BPE tokenizer trained here, on generated text, for tiny test checkpoints.

Nothing is downloaded: the corpus is made from a fixed word list and digits,
and ``tokenizers`` trains the merges. Byte-level pre-tokenisation means any
text (other scripts, emoji) still encodes, just into more tokens.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

_WORDS_TEXT = (
    "the a an of to in and or is are was what which who where when how why picture image "
    "photo describe answer question option color red green blue yellow black white shape "
    "square circle triangle left right top bottom count many one two three four five cat "
    "dog man woman person car tree house text sign number table chart graph show shows "
    "there this that these those it with on at by for from as be not yes no please "
    "briefly detail first second third image-1 image-2 choose letter correct best above "
    "below between "
)


def _corpus(lines: int, seed: int) -> Iterator[str]:
    rng = random.Random(seed)
    words_list = _WORDS_TEXT.split()
    punctuation = [".", ",", "?", "!", ":", ";", "(", ")", "'", '"', "-"]
    for _ in range(lines):
        words = [rng.choice(words_list) for _ in range(rng.randint(3, 14))]
        if rng.random() < 0.4:
            words.insert(rng.randrange(len(words)), str(rng.randint(0, 2000)))
        if rng.random() < 0.3:
            words[0] = words[0].capitalize()
        yield " ".join(words) + rng.choice(punctuation) + "\n"


def train_tokenizer(
    special_tokens: Sequence[str],
    *,
    named_tokens: Mapping[str, str] | None = None,
    vocab_size: int = 600,
    seed: int = 0,
) -> PreTrainedTokenizerBase:
    """Train a byte-level BPE tokenizer on generated text and wrap it for Transformers.

    :param special_tokens: every special token the processor and chat template
        use (they get the first ids, in this order, and never split).
    :param named_tokens: Transformers attributes to set, e.g.
        ``{"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"}``; other keys
        become ``extra_special_tokens`` (such as ``image_token``).
    :param vocab_size: size of the trained vocabulary (specials included).
    :param seed: seed of the generated corpus (same seed, same tokenizer).
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(special_tokens),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    backend.train_from_iterator(_corpus(4000, seed), trainer=trainer)
    standard = {"bos_token", "eos_token", "unk_token", "pad_token", "sep_token", "cls_token"}
    named = dict(named_tokens or {})
    kwargs: dict[str, object] = {k: v for k, v in named.items() if k in standard}
    extra = {k: v for k, v in named.items() if k not in standard}
    if extra:
        kwargs["extra_special_tokens"] = extra
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, **kwargs)
    tokenizer.add_special_tokens({"additional_special_tokens": list(special_tokens)})
    return tokenizer


def padded_tokenizer(
    special_ids: Mapping[str, int],
    *,
    named_tokens: Mapping[str, str],
    chat_template: str,
    seed: int = 0,
) -> PreTrainedTokenizerBase:
    """A trained tokenizer whose special tokens sit at a released tokenizer's ids.

    For architectures whose engine code hard-codes token ids (Ovis2.5's image
    markers, Kimi-VL's media placeholder): the trained vocabulary is padded
    with unused tokens (``<unusedN>``, never produced by a merge) so that each
    special token gets exactly its id in ``special_ids``.
    """
    import json

    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast

    trained = train_tokenizer([], seed=seed)
    data = json.loads(trained.backend_tokenizer.to_str())
    vocab: dict[str, int] = data["model"]["vocab"]
    by_id = {index: token for token, index in special_ids.items()}
    for index in range(len(vocab), max(by_id) + 1):
        vocab[by_id.get(index, f"<unused{index}>")] = index
    data["added_tokens"] = [
        {
            "id": index,
            "content": token,
            "single_word": False,
            "lstrip": False,
            "rstrip": False,
            "normalized": False,
            "special": True,
        }
        for token, index in special_ids.items()
    ]
    backend = Tokenizer.from_str(json.dumps(data))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, **named_tokens)
    tokenizer.chat_template = chat_template
    return tokenizer


__all__ = ["padded_tokenizer", "train_tokenizer"]
