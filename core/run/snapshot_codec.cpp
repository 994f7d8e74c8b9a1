#include "run/snapshot_codec.h"

#include <QDataStream>
#include <QIODevice>

#include <cstring>
#include <type_traits>

namespace plateau {

namespace {
constexpr quint32 kMagic = 0x504c534e;  // "PLSN"
constexpr qint64 kMaxElements = qint64(1) << 28;

template <class T>
void writeVector(QDataStream& out, const std::vector<T>& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    out << quint64(v.size());
    out.writeRawData(reinterpret_cast<const char*>(v.data()), int(v.size() * sizeof(T)));
}

template <class T>
bool readVector(QDataStream& in, std::vector<T>& v) {
    quint64 count = 0;
    in >> count;
    if (in.status() != QDataStream::Ok || count > quint64(kMaxElements)) return false;
    v.resize(std::size_t(count));
    const int bytes = int(count * sizeof(T));
    return in.readRawData(reinterpret_cast<char*>(v.data()), bytes) == bytes;
}

void writeString(QDataStream& out, const QString& s) {
    const QByteArray b = s.toUtf8();
    out << quint32(b.size());
    out.writeRawData(b.constData(), int(b.size()));
}
bool readString(QDataStream& in, QString& s) {
    quint32 size = 0;
    in >> size;
    if (in.status() != QDataStream::Ok || size > 4096) return false;
    QByteArray b(int(size), '\0');
    if (in.readRawData(b.data(), int(size)) != int(size)) return false;
    s = QString::fromUtf8(b);
    return true;
}

// Version 1 (matrix completion only): fixed fields, decoded into the conventional names.
Result<Snapshot> decodeV1(QDataStream& in, const QString& where) {
    auto damaged = [&](const QString& what) { return Error{where + ": damaged snapshot (" + what + ")"}; };
    Snapshot s;
    qint64 step = 0;
    qint32 n = 0, layers = 0, heads = 0, probeCount = 0, source = 0;
    in >> step >> s.timeS >> n >> layers >> heads >> probeCount >> source;
    if (in.status() != QDataStream::Ok) return damaged("truncated header");
    if (n < 1 || n > 64 || layers < 1 || layers > 1024 || heads < 1 || heads > 1024 || probeCount < 0 ||
        probeCount > 1 << 20 || source < 0 || source > 2)
        return damaged("header out of range");
    s.step = step;
    s.probeCount = probeCount;
    s.probe.source = MaskSource(source);
    std::vector<float> input, target, prediction, attention, sameRow, sameCol;
    std::vector<std::uint8_t> masked;
    if (!readVector(in, s.probe.customMask) || !readVector(in, input) || !readVector(in, masked) ||
        !readVector(in, target) || !readVector(in, prediction) || !readVector(in, attention) ||
        !readVector(in, sameRow) || !readVector(in, sameCol))
        return damaged("truncated arrays");
    quint32 spectra = 0;
    in >> spectra;
    if (in.status() != QDataStream::Ok || spectra > quint32(layers * heads)) return damaged("spectra count");
    std::vector<std::vector<float>> qk(spectra), ov(spectra);
    std::vector<std::int32_t> qkRank(spectra), ovRank(spectra);
    for (quint32 i = 0; i < spectra; ++i) {
        qint32 qr = 0, orank = 0;
        if (!readVector(in, qk[i]) || !readVector(in, ov[i])) return damaged("truncated spectra");
        in >> qr >> orank;
        qkRank[i] = qr;
        ovRank[i] = orank;
    }
    double completion = 0, copy = 0, observed = 0;
    in >> completion >> copy >> observed >> s.buildMs;
    if (in.status() != QDataStream::Ok) return damaged("truncated trailer");
    const std::size_t T = std::size_t(n) * std::size_t(n), B = std::size_t(probeCount);
    const std::size_t LH = std::size_t(layers) * std::size_t(heads);
    if (input.size() != B * T || masked.size() != B * T || target.size() != B * T || prediction.size() != B * T ||
        attention.size() != LH * T * T || sameRow.size() != LH || sameCol.size() != LH ||
        (spectra != 0 && spectra != LH) || (s.probe.source == MaskSource::Custom && s.probe.customMask.size() != T))
        return damaged("array sizes do not match the header");
    const std::size_t k = spectra ? qk[0].size() : 0;
    for (quint32 i = 0; i < spectra; ++i)
        if (qk[i].size() != k || ov[i].size() != k) return damaged("spectra sizes differ between heads");

    s.layout.kind = TokenLayout::Grid;
    s.layout.n = n;
    const int L = layers, H = heads, Ti = int(T), Bi = int(B);
    auto put = [&](const QString& name, std::vector<float>&& v, std::vector<int> shape) {
        NamedArray& a = s.arrays[name];
        a.type = ArrayType::F32;
        a.shape = std::move(shape);
        a.f32 = std::move(v);
    };
    put("matrices.input", std::move(input), {Bi, n, n});
    put("matrices.truth", std::move(target), {Bi, n, n});
    put("matrices.prediction", std::move(prediction), {Bi, n, n});
    NamedArray& m = s.arrays["matrices.masked"];
    m.type = ArrayType::U8;
    m.shape = {Bi, n, n};
    m.u8 = std::move(masked);
    put("attention", std::move(attention), {L, H, Ti, Ti});
    put("attention.same_row", std::move(sameRow), {L, H});
    put("attention.same_col", std::move(sameCol), {L, H});
    if (spectra) {
        std::vector<float> q, o;
        for (quint32 i = 0; i < spectra; ++i) {
            q.insert(q.end(), qk[i].begin(), qk[i].end());
            o.insert(o.end(), ov[i].begin(), ov[i].end());
        }
        put("spectra.qk", std::move(q), {L, H, int(k)});
        put("spectra.ov", std::move(o), {L, H, int(k)});
        for (const auto& [name, ranks] : {std::pair{"spectra.qk_rank", &qkRank}, std::pair{"spectra.ov_rank", &ovRank}}) {
            NamedArray& r = s.arrays[name];
            r.type = ArrayType::I32;
            r.shape = {L, H};
            r.i32 = *ranks;
        }
    }
    s.scalars["completion_mse"] = completion;
    s.scalars["copy_mse"] = copy;
    s.scalars["observed_mse"] = observed;
    s.saved = true;
    return s;
}

}  // namespace

// Raw numbers are written in the machine's byte order; the header records it.
QByteArray encodeSnapshot(const Snapshot& s) {
    QByteArray raw;
    QDataStream out(&raw, QIODevice::WriteOnly);
    out.setByteOrder(QDataStream::LittleEndian);
    out << kMagic << qint32(kSnapshotFormatVersion) << quint8(Q_BYTE_ORDER == Q_LITTLE_ENDIAN ? 1 : 0);
    out << qint64(s.step) << s.timeS << s.buildMs << qint32(s.probeCount);
    out << qint32(s.probe.source);
    writeVector(out, s.probe.customMask);
    out << quint8(s.layout.kind) << qint32(s.layout.n) << quint32(s.layout.segments.size());
    for (const TokenSegment& seg : s.layout.segments) {
        writeString(out, seg.label);
        out << qint32(seg.length) << qint32(seg.gridSide);
    }
    out << quint32(s.arrays.size());
    for (const auto& [name, a] : s.arrays) {
        writeString(out, name);
        out << quint8(a.type) << quint32(a.shape.size());
        for (int d : a.shape) out << qint32(d);
        if (a.type == ArrayType::F32) writeVector(out, a.f32);
        if (a.type == ArrayType::U8) writeVector(out, a.u8);
        if (a.type == ArrayType::I32) writeVector(out, a.i32);
    }
    out << quint32(s.scalars.size());
    for (const auto& [name, v] : s.scalars) {
        writeString(out, name);
        out << v;
    }
    return qCompress(raw, 6);
}

Result<Snapshot> decodeSnapshot(const QByteArray& blob, const QString& where) {
    auto damaged = [&](const QString& what) { return Error{where + ": damaged snapshot (" + what + ")"}; };
    if (blob.size() < 4) return damaged("empty");
    const QByteArray raw = qUncompress(blob);
    if (raw.isEmpty()) return damaged("does not decompress");
    QDataStream in(raw);
    in.setByteOrder(QDataStream::LittleEndian);
    quint32 magic = 0;
    qint32 version = 0;
    quint8 little = 0;
    in >> magic >> version >> little;
    if (magic != kMagic) return damaged("not a Plateau snapshot");
    if (version > kSnapshotFormatVersion || version < 1)
        return Error{where + ": snapshot format " + QString::number(version) + " is not one this Plateau reads (1-" +
                     QString::number(kSnapshotFormatVersion) + ")"};
    if ((little == 1) != (Q_BYTE_ORDER == Q_LITTLE_ENDIAN))
        return Error{where + ": snapshot written on a machine of the other byte order"};
    if (version == 1) return decodeV1(in, where);

    Snapshot s;
    qint64 step = 0;
    qint32 probeCount = 0, source = 0, layoutN = 0;
    quint8 layoutKind = 0;
    quint32 segments = 0;
    in >> step >> s.timeS >> s.buildMs >> probeCount >> source;
    if (in.status() != QDataStream::Ok) return damaged("truncated header");
    if (probeCount < 0 || probeCount > 1 << 20 || source < 0 || source > 2) return damaged("header out of range");
    s.step = step;
    s.probeCount = probeCount;
    s.probe.source = MaskSource(source);
    if (!readVector(in, s.probe.customMask)) return damaged("truncated probe mask");
    in >> layoutKind >> layoutN >> segments;
    if (in.status() != QDataStream::Ok || layoutKind > 2 || layoutN < 0 || layoutN > 4096 || segments > 64)
        return damaged("token layout");
    s.layout.kind = TokenLayout::Kind(layoutKind);
    s.layout.n = layoutN;
    for (quint32 i = 0; i < segments; ++i) {
        TokenSegment seg;
        qint32 len = 0, side = 0;
        if (!readString(in, seg.label)) return damaged("token layout");
        in >> len >> side;
        if (in.status() != QDataStream::Ok || len < 0 || len > 1 << 20 || side < 0 || side > 4096)
            return damaged("token layout");
        seg.length = len;
        seg.gridSide = side;
        s.layout.segments.push_back(seg);
    }
    quint32 arrays = 0;
    in >> arrays;
    if (in.status() != QDataStream::Ok || arrays > 4096) return damaged("array count");
    for (quint32 i = 0; i < arrays; ++i) {
        QString name;
        quint8 type = 0;
        quint32 dims = 0;
        if (!readString(in, name)) return damaged("truncated array name");
        in >> type >> dims;
        if (in.status() != QDataStream::Ok || type > 2 || dims > 8) return damaged(name + ": bad type or rank");
        NamedArray a;
        a.type = ArrayType(type);
        for (quint32 d = 0; d < dims; ++d) {
            qint32 v = 0;
            in >> v;
            if (v < 0 || v > 1 << 24) return damaged(name + ": bad shape");
            a.shape.push_back(v);
        }
        bool ok = a.type == ArrayType::F32 ? readVector(in, a.f32) : a.type == ArrayType::U8 ? readVector(in, a.u8)
                                                                                                : readVector(in, a.i32);
        if (!ok) return damaged(name + ": truncated data");
        if (a.stored() != a.count()) return damaged(name + ": data does not match its shape");
        s.arrays[name] = std::move(a);
    }
    quint32 scalars = 0;
    in >> scalars;
    if (in.status() != QDataStream::Ok || scalars > 4096) return damaged("scalar count");
    for (quint32 i = 0; i < scalars; ++i) {
        QString name;
        double v = 0;
        if (!readString(in, name)) return damaged("truncated scalar name");
        in >> v;
        s.scalars[name] = v;
    }
    if (in.status() != QDataStream::Ok) return damaged("truncated scalars");
    if (s.probe.source == MaskSource::Custom && s.probe.customMask.empty()) return damaged("custom mask missing");
    if (const NamedArray* a = s.array("attention")) {
        if (a->shape.size() != 4 || a->dim(2) != a->dim(3)) return damaged("attention is not (L, H, T, T)");
        if (s.layout.kind != TokenLayout::Sequence && s.layout.length() != a->dim(2))
            return damaged("token layout does not match the attention's T");
    }
    s.saved = true;
    return s;
}

}  // namespace plateau
