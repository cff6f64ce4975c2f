// The bodies of Activations.c, included once per instruction set with L(name) giving
// each function a name of that level (name_avx512, name_avx2, name_baseline), so that
// every helper carries its caller's target (16-lane vectors passed between functions of
// different targets change the calling convention, which clang refuses).


INLINE v16f L(splat)(float x) { return (v16f){x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x}; }
INLINE v16f L(as_float)(v16i v) { v16f f; memcpy(&f, &v, sizeof f); return f; }
INLINE v16i L(as_int)(v16f v) { v16i i; memcpy(&i, &v, sizeof i); return i; }
// mask ? a : b, for a mask of all-ones or all-zeros lanes.
INLINE v16f L(select)(v16i mask, v16f a, v16f b) { return L(as_float)((mask & L(as_int)(a)) | (~mask & L(as_int)(b))); }

// The 16 lanes at p + i, or the n - i < 16 of a tail with the others zero.
INLINE v16f L(ld)(const float *p, long i, long n) {
    v16f v;
    if (n - i >= LANES) {
        memcpy(&v, p + i, sizeof v);  // one unaligned vector load
    } else {
        v = L(splat)(0);
        memcpy(&v, p + i, (size_t)(n - i) * sizeof(float));
    }
    return v;
}
INLINE void L(st)(v16f v, float *p, long i, long n) {
    if (n - i >= LANES) {
        memcpy(p + i, &v, sizeof v);
    } else {
        memcpy(p + i, &v, (size_t)(n - i) * sizeof(float));
    }
}
// Lanes of an optional bias (NULL: zeros).
INLINE v16f L(ld_or_zero)(const float *p, long i, long n) { return p ? L(ld)(p, i, n) : L(splat)(0); }

// e^x, relative error below 2 ulp on [-87.3, 88.72]; 0 below, +inf above, NaN stays NaN.
INLINE v16f L(v_exp)(v16f input) {
    const float lower = -87.3f, upper = 88.72283f;
    v16f x = L(select)(input < lower, L(splat)(lower), input);
    x = L(select)(x > upper, L(splat)(upper), x);
    // x = n ln2 + r: adding 1.5 * 2^23 rounds x / ln2 to the integer n in the low bits.
    const v16f magic = L(splat)(12582912.0f);
    const v16f shifted = x * 1.44269504088896341f + magic;
    const v16f n = shifted - magic;
    v16f r = n * -0.693359375f + x;
    r = n * 2.12194440e-4f + r;
    const v16f r2 = r * r;
    v16f p = L(splat)(1.9875691500e-4f);
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    const v16f exp_r = p * r2 + (r + 1);
    // 2^n as 2^half * 2^(n - half): 2^128 is not a Float.
    const v16i n_int = L(as_int)(shifted) - 0x4B400000;
    const v16i half = n_int >> 1;
    v16f result = exp_r * L(as_float)((half + 127) << 23) * L(as_float)((n_int - half + 127) << 23);
    result = L(select)(input > upper, L(splat)(__builtin_inff()), result);
    result = L(select)(input < lower, L(splat)(0), result);
    return L(select)(input != input, input, result);
}

INLINE v16f L(v_abs)(v16f x) { return L(as_float)(L(as_int)(x) & 0x7FFFFFFF); }

// tanh: an odd polynomial near zero, 1 - 2 / (e^2x + 1) elsewhere.
INLINE v16f L(v_tanh)(v16f x) {
    const v16f magnitude = L(v_abs)(x), z = x * x;
    v16f p = L(splat)(-5.70498872745e-3f);
    p = p * z + 2.06390887954e-2f;
    p = p * z + -5.37397155531e-2f;
    p = p * z + 1.33314422036e-1f;
    p = p * z + -3.33332819422e-1f;
    const v16f small = (p * z) * x + x;
    const v16f e = L(v_exp)(-2 * magnitude);
    v16f large = (1 - e) / (1 + e);
    large = L(select)(x < 0, -large, large);
    return L(select)(magnitude < 0.625f, small, large);
}

INLINE v16f L(v_sigmoid)(v16f x) { return 1 / (1 + L(v_exp)(-x)); }

// erfc(z) for z >= 0, relative error below 1.2e-7 (Numerical Recipes' erfcc).
INLINE v16f L(v_erfc_of_magnitude)(v16f z) {
    const v16f t = 1 / (1 + 0.5f * z);
    v16f p = L(splat)(0.17087277f);
    p = p * t + -0.82215223f;
    p = p * t + 1.48851587f;
    p = p * t + -1.13520398f;
    p = p * t + 0.27886807f;
    p = p * t + -0.18628806f;
    p = p * t + 0.09678418f;
    p = p * t + 0.37409196f;
    p = p * t + 1.00002368f;
    p = p * t + -1.26551223f;
    return t * L(v_exp)(p - z * z);
}

// Phi(x) = erfc(-x / sqrt 2) / 2.
INLINE v16f L(v_normal_cdf)(v16f x) {
    const v16f tail = 0.5f * L(v_erfc_of_magnitude)(L(v_abs)(x) * 0.70710678118654752f);
    return L(select)(x > 0, 1 - tail, tail);
}

INLINE v16f L(v_gelu)(v16f x) { return x * L(v_normal_cdf)(x); }
INLINE v16f L(v_gelu_derivative)(v16f x) { return L(v_normal_cdf)(x) + x * 0.3989422804014327f * L(v_exp)(-0.5f * x * x); }
INLINE v16f L(v_relu)(v16f x) { return L(select)(x < 0, L(splat)(0), x); }

INLINE v16f L(v_activation)(v16f x, int kind) {
    switch (kind) {
    case SEQUENT_ACTIVATION_EXP: return L(v_exp)(x);
    case SEQUENT_ACTIVATION_TANH: return L(v_tanh)(x);
    case SEQUENT_ACTIVATION_SIGMOID: return L(v_sigmoid)(x);
    case SEQUENT_ACTIVATION_GELU: return L(v_gelu)(x);
    default: return L(v_relu)(x);
    }
}

static void L(sequent_activation)(const float *x, float *y, long n, float shift, int kind) {
    const v16f s = L(splat)(shift);
    for (long i = 0; i < n; i += LANES) L(st)(L(v_activation)(L(ld)(x, i, n) - s, kind), y, i, n);
}

static void L(sequent_biased_activation)(float *x, const float *bias, long n, int kind) {
    for (long i = 0; i < n; i += LANES) L(st)(L(v_activation)(L(ld)(x, i, n) + L(ld)(bias, i, n), kind), x, i, n);
}

static void L(sequent_gelu_backward)(const float *g, const float *x, float *out, long n) {
    for (long i = 0; i < n; i += LANES) L(st)(L(ld)(g, i, n) * L(v_gelu_derivative)(L(ld)(x, i, n)), out, i, n);
}

// ---- Recurrent cells (RecurrentCellKernels.swift states the equations and the layout) ----

// gates[first + j] = act(input part + recurrent part), j < count.
INLINE void L(activate_gates)(const SequentRecurrentRow *row, long first, long count, int kind) {
    for (long i = 0; i < count; i += LANES) {
        const v16f pre = L(ld)(row->gates + first, i, count) + L(ld_or_zero)(row->bias_ih ? row->bias_ih + first : 0, i, count)
            + L(ld)(row->recurrent + first, i, count) + L(ld_or_zero)(row->bias_hh ? row->bias_hh + first : 0, i, count);
        L(st)(L(v_activation)(pre, kind), row->gates + first, i, count);
    }
}

static void L(sequent_rnn_forward)(const SequentRecurrentRow *row, long hidden, int relu) {
    const int kind = relu ? SEQUENT_ACTIVATION_RELU : SEQUENT_ACTIVATION_TANH;
    for (long i = 0; i < hidden; i += LANES) {
        const v16f pre = L(ld)(row->gates, i, hidden) + L(ld_or_zero)(row->bias_ih, i, hidden)
            + L(ld)(row->recurrent, i, hidden) + L(ld_or_zero)(row->bias_hh, i, hidden);
        const v16f h = L(v_activation)(pre, kind);
        L(st)(h, row->gates, i, hidden);
        L(st)(h, row->h_new, i, hidden);
    }
}

static void L(sequent_rnn_backward)(const SequentRecurrentGradientRow *row, long hidden, int relu) {
    for (long i = 0; i < hidden; i += LANES) {
        const v16f h = L(ld)(row->gates, i, hidden), dh = L(ld)(row->dh, i, hidden);
        L(st)(relu ? L(select)(h <= 0, L(splat)(0), dh) : dh * (1 - h * h), row->gates, i, hidden);
        L(st)(L(splat)(0), row->dh_prev_direct, i, hidden);
    }
}

static void L(sequent_lstm_forward)(const SequentRecurrentRow *row, long hidden) {
    const long gi = 0, gf = hidden, gg = 2 * hidden, go = 3 * hidden;
    L(activate_gates)(row, gi, 2 * hidden, SEQUENT_ACTIVATION_SIGMOID);  // i, f
    L(activate_gates)(row, gg, hidden, SEQUENT_ACTIVATION_TANH);
    L(activate_gates)(row, go, hidden, SEQUENT_ACTIVATION_SIGMOID);
    for (long i = 0; i < hidden; i += LANES) {
        const v16f input_gate = L(ld)(row->gates + gi, i, hidden), forget_gate = L(ld)(row->gates + gf, i, hidden);
        const v16f candidate = L(ld)(row->gates + gg, i, hidden), output_gate = L(ld)(row->gates + go, i, hidden);
        const v16f cell = forget_gate * L(ld)(row->c_prev, i, hidden) + input_gate * candidate;
        L(st)(cell, row->c_new, i, hidden);
        L(st)(output_gate * L(v_tanh)(cell), row->h_new, i, hidden);
    }
}

static void L(sequent_lstm_backward)(const SequentRecurrentGradientRow *row, long hidden) {
    const long gi = 0, gf = hidden, gg = 2 * hidden, go = 3 * hidden;
    for (long i = 0; i < hidden; i += LANES) {
        const v16f output_gate = L(ld)(row->gates + go, i, hidden), tanh_cell = L(v_tanh)(L(ld)(row->c_new, i, hidden));
        const v16f dh = L(ld)(row->dh, i, hidden);
        L(st)(dh * tanh_cell * output_gate * (1 - output_gate), row->gates + go, i, hidden);
        L(st)(L(ld)(row->dc, i, hidden) + dh * output_gate * (1 - tanh_cell * tanh_cell), row->dc, i, hidden);
    }
    for (long i = 0; i < hidden; i += LANES) {
        const v16f input_gate = L(ld)(row->gates + gi, i, hidden), forget_gate = L(ld)(row->gates + gf, i, hidden);
        const v16f candidate = L(ld)(row->gates + gg, i, hidden), d_cell = L(ld)(row->dc, i, hidden);
        L(st)(d_cell * candidate * input_gate * (1 - input_gate), row->gates + gi, i, hidden);
        L(st)(d_cell * L(ld)(row->c_prev, i, hidden) * forget_gate * (1 - forget_gate), row->gates + gf, i, hidden);
        L(st)(d_cell * input_gate * (1 - candidate * candidate), row->gates + gg, i, hidden);
        L(st)(d_cell * forget_gate, row->dc, i, hidden);
        L(st)(L(splat)(0), row->dh_prev_direct, i, hidden);
    }
}

static void L(sequent_gru_forward)(const SequentRecurrentRow *row, long hidden) {
    const long gr = 0, gz = hidden, gn = 2 * hidden;
    L(activate_gates)(row, gr, 2 * hidden, SEQUENT_ACTIVATION_SIGMOID);  // r, z
    for (long i = 0; i < hidden; i += LANES) {
        const v16f reset_gate = L(ld)(row->gates + gr, i, hidden), update_gate = L(ld)(row->gates + gz, i, hidden);
        const v16f hn = L(ld)(row->recurrent + gn, i, hidden) + L(ld_or_zero)(row->bias_hh ? row->bias_hh + gn : 0, i, hidden);
        const v16f input_part = L(ld)(row->gates + gn, i, hidden) + L(ld_or_zero)(row->bias_ih ? row->bias_ih + gn : 0, i, hidden);
        const v16f candidate = L(v_tanh)(input_part + reset_gate * hn);
        const v16f h = (1 - update_gate) * candidate + update_gate * L(ld)(row->h_prev, i, hidden);
        L(st)(candidate, row->gates + gn, i, hidden);
        L(st)(hn, row->extra, i, hidden);
        L(st)(h, row->h_new, i, hidden);
    }
}

static void L(sequent_gru_backward)(const SequentRecurrentGradientRow *row, long hidden) {
    const long gr = 0, gz = hidden, gn = 2 * hidden;
    for (long i = 0; i < hidden; i += LANES) {
        const v16f reset_gate = L(ld)(row->gates + gr, i, hidden), update_gate = L(ld)(row->gates + gz, i, hidden);
        const v16f candidate = L(ld)(row->gates + gn, i, hidden), hn = L(ld)(row->extra, i, hidden);
        const v16f h_prev = L(ld)(row->h_prev, i, hidden), dh = L(ld)(row->dh, i, hidden);
        const v16f d_candidate_pre = dh * (1 - update_gate) * (1 - candidate * candidate);
        const v16f d_update_gate = dh * (h_prev - candidate);
        const v16f d_reset_gate = d_candidate_pre * hn;
        L(st)(d_reset_gate * reset_gate * (1 - reset_gate), row->gates + gr, i, hidden);
        L(st)(d_update_gate * update_gate * (1 - update_gate), row->gates + gz, i, hidden);
        L(st)(d_candidate_pre, row->gates + gn, i, hidden);
        L(st)(d_candidate_pre * reset_gate, row->extra, i, hidden);
        L(st)(dh * update_gate, row->dh_prev_direct, i, hidden);
    }
}

// ---- Attention's small products (AttentionKernels.swift) ----

// c (m, n) (+)= op(a) (m, k) b (k, n), b row-major with row stride ldb; a (m, k) at row
// stride lda, or stored (k, m) when transpose_a. Blocks of four rows by 16 columns of c stay
// in registers while p runs over k, each row of b loaded once for four multiply-adds; the
// last, narrower block of columns is read through a zero-padded copy of b's columns.
INLINE void L(multiply_add_columns)(long col, long width, long m, long k, const float *a, long lda, int transpose_a,
                                    const float *b, long ldb, float *c, long ldc, int accumulating) {
    const long row_step = transpose_a ? 1 : lda, depth_step = transpose_a ? lda : 1;
    long row = 0;
    for (; row + 4 <= m; row += 4) {
        float *c0 = c + row * ldc, *c1 = c0 + ldc, *c2 = c1 + ldc, *c3 = c2 + ldc;
        v16f acc0 = accumulating ? L(ld)(c0 + col, 0, width) : L(splat)(0);
        v16f acc1 = accumulating ? L(ld)(c1 + col, 0, width) : L(splat)(0);
        v16f acc2 = accumulating ? L(ld)(c2 + col, 0, width) : L(splat)(0);
        v16f acc3 = accumulating ? L(ld)(c3 + col, 0, width) : L(splat)(0);
        const float *a_column = a + row * row_step, *b_row = b;
        for (long p = 0; p < k; p++) {
            v16f b_vector;
            memcpy(&b_vector, b_row, sizeof b_vector);
            acc0 += a_column[0] * b_vector;
            acc1 += a_column[row_step] * b_vector;
            acc2 += a_column[2 * row_step] * b_vector;
            acc3 += a_column[3 * row_step] * b_vector;
            a_column += depth_step;
            b_row += ldb;
        }
        L(st)(acc0, c0 + col, 0, width); L(st)(acc1, c1 + col, 0, width);
        L(st)(acc2, c2 + col, 0, width); L(st)(acc3, c3 + col, 0, width);
    }
    for (; row < m; row++) {
        float *c0 = c + row * ldc;
        v16f acc0 = accumulating ? L(ld)(c0 + col, 0, width) : L(splat)(0);
        const float *a_column = a + row * row_step, *b_row = b;
        for (long p = 0; p < k; p++) {
            v16f b_vector;
            memcpy(&b_vector, b_row, sizeof b_vector);
            acc0 += a_column[0] * b_vector;
            a_column += depth_step;
            b_row += ldb;
        }
        L(st)(acc0, c0 + col, 0, width);
    }
}

static void L(sequent_multiply_add)(long m, long n, long k, const float *a, long lda, int transpose_a,
                                    const float *b, long ldb, float *c, long ldc, int accumulating) {
    for (long col = 0; col < n; col += LANES) {
        const long width = n - col < LANES ? n - col : LANES;
        if (width == LANES) {
            L(multiply_add_columns)(col, LANES, m, k, a, lda, transpose_a, b + col, ldb, c, ldc, accumulating);
        } else {
            float *padded = malloc((size_t)(k > 0 ? k : 1) * LANES * sizeof(float));
            if (!padded) abort();
            for (long p = 0; p < k; p++) {
                memset(padded + p * LANES, 0, LANES * sizeof(float));
                memcpy(padded + p * LANES, b + p * ldb + col, (size_t)width * sizeof(float));
            }
            L(multiply_add_columns)(col, width, m, k, a, lda, transpose_a, padded, LANES, c, ldc, accumulating);
            free(padded);
        }
    }
}

// x . y over n contiguous scalars.
static float L(sequent_dot)(const float *x, const float *y, long n) {
    v16f acc = L(splat)(0);
    for (long i = 0; i < n; i += LANES) acc += L(ld)(x, i, n) * L(ld)(y, i, n);
    float lanes[LANES];
    memcpy(lanes, &acc, sizeof lanes);
    float total = 0;
    for (int i = 0; i < LANES; i++) total += lanes[i];
    return total;
}

// ---- bfloat16 rounding (BFloat16.swift states the rule) ----

// out[i] = the bfloat16 nearest to x[i] (ties to even), as its 16 bits; NaN stays NaN.
static void L(sequent_bfloat16_round)(const float *x, uint16_t *out, long n) {
    typedef uint32_t v16u __attribute__((vector_size(64)));
    typedef uint16_t v16h __attribute__((vector_size(32)));
    long i = 0;
    for (; i + LANES <= n; i += LANES) {
        v16u bits;
        v16f values;
        memcpy(&bits, x + i, sizeof bits);
        memcpy(&values, x + i, sizeof values);
        v16u rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16;
        const v16u nan = (v16u)(values != values);
        rounded = (nan & ((bits >> 16) | 0x40)) | (~nan & rounded);
        const v16h halves = __builtin_convertvector(rounded, v16h);
        memcpy(out + i, &halves, sizeof halves);
    }
    for (; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, x + i, sizeof bits);
        out[i] = x[i] != x[i] ? (uint16_t)((bits >> 16) | 0x40) : (uint16_t)((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
    }
}
