"""Parameter names and shapes of the official checkpoint files, written out from the authors' class definitions
(diffusers 0.11 UNet2DConditionModel/AutoencoderKL layouts made 3D by AnimateDiff, their stride MLP and
ControlNet, transformers' CLIPTextModel, and the original LDM layout of a Stable Diffusion .safetensors file).

This is deliberately a second, independent description: it enumerates names from the block structure the
authors' classes build, not from our reference modules.  Fake official folders (tests and `make_fake_official`)
take their key names from here, so a naming slip in our modules makes the CLI fail on them (missing/unexpected
key), and `tests/test_keys.py` compares both descriptions at full size.

Every function returns an ordered dict name -> shape tuple; configs are the dataclasses in configs.py.
"""
from collections import OrderedDict


def _lin(d, name, cout, cin, bias=True):
    d[name + ".weight"] = (cout, cin)
    if bias:
        d[name + ".bias"] = (cout,)


def _conv(d, name, cout, cin, k=3, dims=2):
    d[name + ".weight"] = (cout, cin) + (1,) * (dims - 4) + (k,) * 2
    d[name + ".bias"] = (cout,)


def _norm(d, name, c):
    d[name + ".weight"] = (c,)
    d[name + ".bias"] = (c,)


def _resnet(d, name, cin, cout, temb):
    """diffusers ResnetBlock2D / AnimateDiff ResnetBlock3D (same parameters)."""
    _norm(d, name + ".norm1", cin)
    _conv(d, name + ".conv1", cout, cin)
    if temb:
        _lin(d, name + ".time_emb_proj", cout, temb)
    _norm(d, name + ".norm2", cout)
    _conv(d, name + ".conv2", cout, cout)
    if cin != cout:
        _conv(d, name + ".conv_shortcut", cout, cin, k=1)


def _transformer(d, name, c, xdim):
    """Transformer3DModel (use_linear_projection false: 1x1 conv projections), one BasicTransformerBlock."""
    _norm(d, name + ".norm", c)
    _conv(d, name + ".proj_in", c, c, k=1)
    b = name + ".transformer_blocks.0"
    for a, kv in (("attn1", c), ("attn2", xdim)):
        _lin(d, f"{b}.{a}.to_q", c, c, bias=False)
        _lin(d, f"{b}.{a}.to_k", c, kv, bias=False)
        _lin(d, f"{b}.{a}.to_v", c, kv, bias=False)
        _lin(d, f"{b}.{a}.to_out.0", c, c)
    _norm(d, b + ".norm1", c)
    _norm(d, b + ".norm2", c)
    _norm(d, b + ".norm3", c)
    _lin(d, b + ".ff.net.0.proj", 8 * c, c)          # GEGLU: inner 4c, projected to value and gate
    _lin(d, b + ".ff.net.2", c, 4 * c)
    _conv(d, name + ".proj_out", c, c, k=1)


def _motion_module(d, name, c, ucfg):
    """AnimateDiff VanillaTemporalModule: TemporalTransformer3DModel with one TemporalTransformerBlock."""
    t = name + ".temporal_transformer"
    _norm(d, t + ".norm", c)
    _lin(d, t + ".proj_in", c, c)
    b = t + ".transformer_blocks.0"
    for i in range(ucfg.mm_attn_blocks):
        a = f"{b}.attention_blocks.{i}"
        _lin(d, a + ".to_q", c, c, bias=False)
        _lin(d, a + ".to_k", c, c, bias=False)
        _lin(d, a + ".to_v", c, c, bias=False)
        _lin(d, a + ".to_out.0", c, c)
        d[a + ".pos_encoder.pe"] = (1, ucfg.mm_pe_max_len, c)
        _norm(d, f"{b}.norms.{i}", c)
    _lin(d, b + ".ff.net.0.proj", 8 * c, c)
    _lin(d, b + ".ff.net.2", c, 4 * c)
    _norm(d, b + ".ff_norm", c)
    _lin(d, t + ".proj_out", c, c)


def _embeddings(d, ucfg):
    c0 = ucfg.block_out_channels[0]
    temb = 4 * c0
    _lin(d, "time_embedding.linear_1", temb, c0)
    _lin(d, "time_embedding.linear_2", temb, temb)
    if ucfg.stride_embedding:
        _lin(d, "stride_embedding.linear_1", temb, c0)
        _lin(d, "stride_embedding.linear_2", temb, temb)
    return temb


def _down_and_mid(d, ucfg, temb):
    """Down blocks (CrossAttnDownBlock3D x (n-1), DownBlock3D) and UNetMidBlock3DCrossAttn; yields the channel
    count of every skip feature (what the ControlNet's zero convs see) in order."""
    boc, L, n = ucfg.block_out_channels, ucfg.layers_per_block, len(ucfg.block_out_channels)
    skips = [boc[0]]
    cin = boc[0]
    for i, cout in enumerate(boc):
        p = f"down_blocks.{i}"
        for j in range(L):
            _resnet(d, f"{p}.resnets.{j}", cin if j == 0 else cout, cout, temb)
            if i < n - 1:
                _transformer(d, f"{p}.attentions.{j}", cout, ucfg.cross_attention_dim)
            _motion_module(d, f"{p}.motion_modules.{j}", cout, ucfg)
            skips.append(cout)
        if i < n - 1:
            _conv(d, f"{p}.downsamplers.0.conv", cout, cout)
            skips.append(cout)
        cin = cout
    c = boc[-1]
    _resnet(d, "mid_block.resnets.0", c, c, temb)
    _transformer(d, "mid_block.attentions.0", c, ucfg.cross_attention_dim)
    _motion_module(d, "mid_block.motion_modules.0", c, ucfg)
    _resnet(d, "mid_block.resnets.1", c, c, temb)
    return skips


def unet_keys(ucfg):
    """Stage-1 (stride_embedding) or stage-2 UNet3DConditionModel with motion modules."""
    d = OrderedDict()
    boc, L, n = ucfg.block_out_channels, ucfg.layers_per_block, len(ucfg.block_out_channels)
    _conv(d, "conv_in", boc[0], ucfg.in_channels)
    temb = _embeddings(d, ucfg)
    _down_and_mid(d, ucfg, temb)
    rev = list(reversed(boc))
    prev = rev[0]
    for i, cout in enumerate(rev):
        p = f"up_blocks.{i}"
        skip_in = rev[min(i + 1, n - 1)]
        for j in range(L + 1):
            res_skip = skip_in if j == L else cout
            _resnet(d, f"{p}.resnets.{j}", (prev if j == 0 else cout) + res_skip, cout, temb)
            if i > 0:
                _transformer(d, f"{p}.attentions.{j}", cout, ucfg.cross_attention_dim)
            _motion_module(d, f"{p}.motion_modules.{j}", cout, ucfg)
        if i < n - 1:
            _conv(d, f"{p}.upsamplers.0.conv", cout, cout)
        prev = cout
    _norm(d, "conv_norm_out", boc[0])
    _conv(d, "conv_out", ucfg.out_channels, boc[0])
    return d


def controlnet_keys(ucfg, cond_hidden, cond_channels=5):
    """The authors' trajectory ControlNet (copy of the stage-1 encoder, Conv3d condition encoder, zero convs)."""
    d = OrderedDict()
    boc = ucfg.block_out_channels
    _conv(d, "conv_in", boc[0], ucfg.in_channels)
    temb = _embeddings(d, ucfg)
    _conv(d, "controlnet_cond_embedding.layers.0", cond_hidden, cond_channels, dims=5)
    _conv(d, "controlnet_cond_embedding.layers.2", boc[0], cond_hidden, dims=5)
    skips = _down_and_mid(d, ucfg, temb)
    for k, c in enumerate(skips):
        _conv(d, f"controlnet_down_blocks.{k}", c, c, k=1)
    _conv(d, "controlnet_mid_block", boc[-1], boc[-1], k=1)
    return d


def vae_keys(vcfg):
    """diffusers 0.11 AutoencoderKL (mid-block attention: group_norm/query/key/value/proj_attn, Linear)."""
    d = OrderedDict()
    boc, L, n = vcfg.block_out_channels, vcfg.layers_per_block, len(vcfg.block_out_channels)

    def mid(p, c):
        _resnet(d, p + ".resnets.0", c, c, 0)
        a = p + ".attentions.0"
        _norm(d, a + ".group_norm", c)
        for nm in ("query", "key", "value", "proj_attn"):
            _lin(d, f"{a}.{nm}", c, c)
        _resnet(d, p + ".resnets.1", c, c, 0)

    _conv(d, "encoder.conv_in", boc[0], vcfg.in_channels)
    cin = boc[0]
    for i, cout in enumerate(boc):
        for j in range(L):
            _resnet(d, f"encoder.down_blocks.{i}.resnets.{j}", cin if j == 0 else cout, cout, 0)
        if i < n - 1:
            _conv(d, f"encoder.down_blocks.{i}.downsamplers.0.conv", cout, cout)
        cin = cout
    mid("encoder.mid_block", boc[-1])
    _norm(d, "encoder.conv_norm_out", boc[-1])
    _conv(d, "encoder.conv_out", 2 * vcfg.latent_channels, boc[-1])
    _conv(d, "decoder.conv_in", boc[-1], vcfg.latent_channels)
    mid("decoder.mid_block", boc[-1])
    rev = list(reversed(boc))
    cin = rev[0]
    for i, cout in enumerate(rev):
        for j in range(L + 1):
            _resnet(d, f"decoder.up_blocks.{i}.resnets.{j}", cin if j == 0 else cout, cout, 0)
        if i < n - 1:
            _conv(d, f"decoder.up_blocks.{i}.upsamplers.0.conv", cout, cout)
        cin = cout
    _norm(d, "decoder.conv_norm_out", boc[0])
    _conv(d, "decoder.conv_out", vcfg.out_channels, boc[0])
    _conv(d, "quant_conv", 2 * vcfg.latent_channels, 2 * vcfg.latent_channels, k=1)
    _conv(d, "post_quant_conv", vcfg.latent_channels, vcfg.latent_channels, k=1)
    return d


def ldm_vae_keys(vcfg, prefix="first_stage_model."):
    """The same VAE in the original LDM layout of an SD .safetensors file (what Realistic Vision ships):
    encoder.down.{i}.block.{j}, nin_shortcut, mid.block_1/attn_1/block_2 with 1x1-conv q/k/v/proj_out, norm_out;
    decoder.up.{i} counts from the highest resolution (i = 0 is the last block applied)."""
    d = OrderedDict()
    boc, L, n = vcfg.block_out_channels, vcfg.layers_per_block, len(vcfg.block_out_channels)

    def block(p, cin, cout):
        _norm(d, p + ".norm1", cin)
        _conv(d, p + ".conv1", cout, cin)
        _norm(d, p + ".norm2", cout)
        _conv(d, p + ".conv2", cout, cout)
        if cin != cout:
            _conv(d, p + ".nin_shortcut", cout, cin, k=1)

    def mid(p, c):
        block(p + ".block_1", c, c)
        _norm(d, p + ".attn_1.norm", c)
        for nm in ("q", "k", "v", "proj_out"):
            _conv(d, f"{p}.attn_1.{nm}", c, c, k=1)
        block(p + ".block_2", c, c)

    e = prefix + "encoder"
    _conv(d, e + ".conv_in", boc[0], vcfg.in_channels)
    cin = boc[0]
    for i, cout in enumerate(boc):
        for j in range(L):
            block(f"{e}.down.{i}.block.{j}", cin if j == 0 else cout, cout)
        if i < n - 1:
            _conv(d, f"{e}.down.{i}.downsample.conv", cout, cout)
        cin = cout
    mid(e + ".mid", boc[-1])
    _norm(d, e + ".norm_out", boc[-1])
    _conv(d, e + ".conv_out", 2 * vcfg.latent_channels, boc[-1])
    dd = prefix + "decoder"
    _conv(d, dd + ".conv_in", boc[-1], vcfg.latent_channels)
    mid(dd + ".mid", boc[-1])
    cin = boc[-1]
    for i in reversed(range(n)):
        cout = boc[i]
        for j in range(L + 1):
            block(f"{dd}.up.{i}.block.{j}", cin if j == 0 else cout, cout)
        if i > 0:
            _conv(d, f"{dd}.up.{i}.upsample.conv", cout, cout)
        cin = cout
    _norm(d, dd + ".norm_out", boc[0])
    _conv(d, dd + ".conv_out", vcfg.out_channels, boc[0])
    _conv(d, prefix + "quant_conv", 2 * vcfg.latent_channels, 2 * vcfg.latent_channels, k=1)
    _conv(d, prefix + "post_quant_conv", vcfg.latent_channels, vcfg.latent_channels, k=1)
    return d


def clip_keys(tcfg, vocab_size=None):
    """transformers CLIPTextModel (position_ids is a saved int64 buffer in 4.25)."""
    d = OrderedDict()
    D, I, V = tcfg.hidden_size, tcfg.intermediate_size, vocab_size or tcfg.vocab_size
    t = "text_model"
    d[t + ".embeddings.token_embedding.weight"] = (V, D)
    d[t + ".embeddings.position_embedding.weight"] = (tcfg.max_position_embeddings, D)
    d[t + ".embeddings.position_ids"] = (1, tcfg.max_position_embeddings)
    for i in range(tcfg.num_hidden_layers):
        p = f"{t}.encoder.layers.{i}"
        for nm in ("k_proj", "v_proj", "q_proj", "out_proj"):
            _lin(d, f"{p}.self_attn.{nm}", D, D)
        _norm(d, p + ".layer_norm1", D)
        _lin(d, p + ".mlp.fc1", I, D)
        _lin(d, p + ".mlp.fc2", D, I)
        _norm(d, p + ".layer_norm2", D)
    _norm(d, t + ".final_layer_norm", D)
    return d
