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
}  // namespace

// Raw floats are written in the machine's byte order; the header records it.
QByteArray encodeSnapshot(const Snapshot& s) {
    QByteArray raw;
    QDataStream out(&raw, QIODevice::WriteOnly);
    out.setByteOrder(QDataStream::LittleEndian);
    out << kMagic << qint32(kSnapshotFormatVersion) << quint8(Q_BYTE_ORDER == Q_LITTLE_ENDIAN ? 1 : 0);
    out << qint64(s.step) << s.timeS << qint32(s.n) << qint32(s.layers) << qint32(s.heads) << qint32(s.probeCount);
    out << qint32(s.probe.source);
    writeVector(out, s.probe.customMask);
    writeVector(out, s.input);
    writeVector(out, s.masked);
    writeVector(out, s.target);
    writeVector(out, s.prediction);
    writeVector(out, s.attention);
    writeVector(out, s.sameRow);
    writeVector(out, s.sameCol);
    out << quint32(s.spectra.size());
    for (const HeadSpectrum& h : s.spectra) {
        writeVector(out, h.qk);
        writeVector(out, h.ov);
        out << qint32(h.qkRank) << qint32(h.ovRank);
    }
    out << s.completionMse << s.copyMse << s.observedMse << s.buildMs;
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
    if (version > kSnapshotFormatVersion)
        return Error{where + ": snapshot format " + QString::number(version) + " is newer than this Plateau reads (" +
                     QString::number(kSnapshotFormatVersion) + ")"};
    if ((little == 1) != (Q_BYTE_ORDER == Q_LITTLE_ENDIAN))
        return Error{where + ": snapshot written on a machine of the other byte order"};
    Snapshot s;
    qint64 step = 0;
    qint32 n = 0, layers = 0, heads = 0, probeCount = 0, source = 0;
    in >> step >> s.timeS >> n >> layers >> heads >> probeCount >> source;
    s.step = step;
    s.n = n;
    s.layers = layers;
    s.heads = heads;
    s.probeCount = probeCount;
    if (in.status() != QDataStream::Ok) return damaged("truncated header");
    if (n < 1 || n > 64 || layers < 1 || layers > 1024 || heads < 1 || heads > 1024 || probeCount < 0 ||
        probeCount > 1 << 20 || source < 0 || source > 2)
        return damaged("header out of range");
    s.probe.source = MaskSource(source);
    if (!readVector(in, s.probe.customMask) || !readVector(in, s.input) || !readVector(in, s.masked) ||
        !readVector(in, s.target) || !readVector(in, s.prediction) || !readVector(in, s.attention) ||
        !readVector(in, s.sameRow) || !readVector(in, s.sameCol))
        return damaged("truncated arrays");
    quint32 spectra = 0;
    in >> spectra;
    if (in.status() != QDataStream::Ok || spectra > quint32(layers * heads)) return damaged("spectra count");
    s.spectra.resize(spectra);
    for (HeadSpectrum& h : s.spectra) {
        qint32 qr = 0, orank = 0;
        if (!readVector(in, h.qk) || !readVector(in, h.ov)) return damaged("truncated spectra");
        in >> qr >> orank;
        h.qkRank = qr;
        h.ovRank = orank;
    }
    in >> s.completionMse >> s.copyMse >> s.observedMse >> s.buildMs;
    if (in.status() != QDataStream::Ok) return damaged("truncated trailer");
    const std::size_t T = std::size_t(n) * std::size_t(n), B = std::size_t(probeCount);
    const std::size_t LH = std::size_t(layers) * std::size_t(heads);
    if (s.input.size() != B * T || s.masked.size() != B * T || s.target.size() != B * T ||
        s.prediction.size() != B * T || s.attention.size() != LH * T * T || s.sameRow.size() != LH ||
        s.sameCol.size() != LH || (!s.spectra.empty() && s.spectra.size() != LH) ||
        (s.probe.source == MaskSource::Custom && s.probe.customMask.size() != T))
        return damaged("array sizes do not match the header");
    s.saved = true;
    return s;
}

}  // namespace plateau
