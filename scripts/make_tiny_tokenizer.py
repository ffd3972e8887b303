from transformers import CLIPTokenizer


def bytes_to_unicode():
    bs = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


chars = list(bytes_to_unicode().values())
vocab = {}
for c in chars:
    vocab[c] = len(vocab)
for c in chars:
    vocab[c + "</w>"] = len(vocab)
merges = [
    ("t", "h"),
    ("th", "e</w>"),
    ("a", "n"),
    ("an", "d</w>"),
    ("o", "f</w>"),
    ("i", "n"),
    ("e", "r</w>"),
]
for a, b in merges:
    vocab[a + b] = len(vocab)
vocab["<|startoftext|>"] = len(vocab)
vocab["<|endoftext|>"] = len(vocab)
tok = CLIPTokenizer(vocab=vocab, merges=merges, model_max_length=77)
print(len(tok), tok("a photo of the cat and dog").input_ids)
tok.save_pretrained("tests/assets/tiny_clip_tokenizer")
t2 = CLIPTokenizer.from_pretrained("tests/assets/tiny_clip_tokenizer")
print(t2("a photo of the cat and dog").input_ids, t2.model_max_length)
