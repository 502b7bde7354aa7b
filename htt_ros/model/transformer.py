"""Pre-norm transformer encoder of blocks P and A (Wen et al. 2023, Sec. 3.2; DETR-derived).

Differences from ``torch.nn.TransformerEncoder``, following the authors' code:
  * the sinusoidal position encoding is added to queries and keys only, never to values, at
    every layer (DETR style);
  * pre-norm layers (``x + Attn(LN(x))``, ``x + FF(LN(x))``) and a final LayerNorm;
  * dropout is always 0, ReLU feed-forward;
  * a boolean key padding mask (True = key ignored). Callers keep at least one key valid per
    sequence, so no softmax row is all ``-inf`` (which would give NaN, also in TensorRT).
Parameter names (``self_attn.in_proj_weight``, ``linear1``, ``norm1`` ...) match the authors'
checkpoints, which used ``nn.MultiheadAttention``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def sine_position_encoding(length: int, dim: int) -> torch.Tensor:
    """Vaswani table ``[length, dim]``: pe[p, 2i] = sin(p / 10000^(2i/dim)), pe[p, 2i+1] = cos."""
    position = torch.arange(length, dtype=torch.float32)[:, None]  # [L, 1]
    inv_freq = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(1e4) / dim))
    pe = torch.zeros(length, dim)
    pe[:, 0::2] = torch.sin(position * inv_freq)
    pe[:, 1::2] = torch.cos(position * inv_freq)
    return pe


class SelfAttention(nn.Module):
    """Multi-head attention with a packed q|k|v projection (``nn.MultiheadAttention`` names)."""

    def __init__(self, d_model: int, num_heads: int) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.in_proj_weight = nn.Parameter(torch.empty(3 * d_model, d_model))  # rows q | k | v
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * d_model))
        self.out_proj = nn.Linear(d_model, d_model)
        nn.init.xavier_uniform_(self.in_proj_weight)
        nn.init.zeros_(self.out_proj.bias)

    def forward(
        self, query_key: torch.Tensor, value: torch.Tensor, key_padding_mask: torch.Tensor
    ) -> torch.Tensor:
        """query_key (= keys) and value ``[B, S, D]``, key_padding_mask ``[B, S]`` bool (True =
        ignore) -> ``[B, S, D]``."""
        B, S, D = value.shape
        w, b = self.in_proj_weight, self.in_proj_bias  # rows q | k | v
        w_q, w_k, w_v = w[:D], w[D : 2 * D], w[2 * D :]
        b_q, b_k, b_v = b[:D], b[D : 2 * D], b[2 * D :]
        heads = (B, S, self.num_heads, D // self.num_heads)
        q = F.linear(query_key, w_q, b_q).view(heads).transpose(1, 2)  # [B, nh, S, hd]
        k = F.linear(query_key, w_k, b_k).view(heads).transpose(1, 2)  # [B, nh, S, hd]
        v = F.linear(value, w_v, b_v).view(heads).transpose(1, 2)  # [B, nh, S, hd]
        scores = q @ k.transpose(-2, -1) / math.sqrt(D // self.num_heads)  # [B, nh, S, S]
        scores = scores.masked_fill(key_padding_mask[:, None, None, :], float("-inf"))
        out = scores.softmax(dim=-1) @ v  # [B, nh, S, hd]
        return self.out_proj(out.transpose(1, 2).reshape(B, S, D))


class EncoderLayer(nn.Module):
    """Pre-norm layer: h = LN1(x); x += Attn(q=k=h+pos, v=h); x += W2 relu(W1 LN2(x))."""

    def __init__(self, d_model: int, num_heads: int, dim_feedforward: int) -> None:
        super().__init__()
        self.self_attn = SelfAttention(d_model, num_heads)
        self.linear1 = nn.Linear(d_model, dim_feedforward)
        self.linear2 = nn.Linear(dim_feedforward, d_model)
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)

    def forward(
        self, x: torch.Tensor, pos: torch.Tensor, key_padding_mask: torch.Tensor
    ) -> torch.Tensor:
        h = self.norm1(x)
        x = x + self.self_attn(h + pos, h, key_padding_mask)
        return x + self.linear2(F.relu(self.linear1(self.norm2(x))))


class Encoder(nn.Module):
    """``num_layers`` pre-norm layers and a final LayerNorm, with position encoding on q and k.

    Parameters:
        d_model, num_heads, dim_feedforward, num_layers: sizes (512, 8, 2048, 2 in HTT).
        max_len: longest sequence (t for block P, T + 1 for block A).
    """

    def __init__(
        self, d_model: int, num_heads: int, dim_feedforward: int, num_layers: int, max_len: int
    ) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            EncoderLayer(d_model, num_heads, dim_feedforward) for _ in range(num_layers)
        )
        self.norm = nn.LayerNorm(d_model)
        # Recomputed, not loaded: the authors' stored `transformer_pe.pe` holds the same values.
        self.register_buffer("pos", sine_position_encoding(max_len, d_model), persistent=False)
        for p in self.parameters():  # the authors re-initialise every matrix of the encoder
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)

    def forward(self, x: torch.Tensor, key_padding_mask: torch.Tensor) -> torch.Tensor:
        """x ``[B, S, D]``, key_padding_mask ``[B, S]`` bool (True = padded) -> ``[B, S, D]``."""
        pos = self.pos[: x.shape[1]]  # [S, D], positions 0..S-1
        for layer in self.layers:
            x = layer(x, pos, key_padding_mask)
        return self.norm(x)
