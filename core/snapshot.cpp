#include "snapshot.h"

#include <QStringList>

#include <cmath>

namespace plateau {

int TokenLayout::length() const {
    switch (kind) {
    case Grid: return n * n;
    case Segments: {
        int t = 0;
        for (const TokenSegment& s : segments) t += s.length;
        return t;
    }
    case Sequence: return n;
    }
    return 0;
}

namespace {
// A segment of several tokens whose label has one word per token ("x3 y3 z3") names each token by
// its word; otherwise its tokens are "label i" (or grid cells).
QString tokenWord(const TokenSegment& s, int i) {
    if (s.length < 2) return {};
    const QStringList words = s.label.split(' ', Qt::SkipEmptyParts);
    return words.size() == s.length ? words[i] : QString();
}
}  // namespace

QString TokenLayout::describe(int t) const {
    if (kind == Grid && n > 0) return QString("(%1,%2)").arg(t / n).arg(t % n);
    if (kind == Segments) {
        int start = 0;
        for (const TokenSegment& s : segments) {
            if (t < start + s.length) {
                const int i = t - start;
                if (s.length == 1) return s.label;
                if (const QString w = tokenWord(s, i); !w.isEmpty()) return w;
                if (s.gridSide > 0) return QString("%1 (%2,%3)").arg(s.label).arg(i / s.gridSide).arg(i % s.gridSide);
                return QString("%1 %2").arg(s.label).arg(i);
            }
            start += s.length;
        }
    }
    return QString("t %1").arg(t);
}

QString TokenLayout::label(int t) const {
    if (kind == Grid && n > 0) return QString("r%1c%2").arg(t / n).arg(t % n);
    if (kind == Segments) {
        int start = 0;
        for (const TokenSegment& s : segments) {
            if (t < start + s.length) {
                const int i = t - start;
                QString name = s.label;
                name.replace(' ', '_').replace(',', '_');
                if (s.length == 1) return name;
                if (const QString w = tokenWord(s, i); !w.isEmpty()) return w;
                if (s.gridSide > 0) return QString("%1_r%2c%3").arg(name).arg(i / s.gridSide).arg(i % s.gridSide);
                return QString("%1_%2").arg(name).arg(i);
            }
            start += s.length;
        }
    }
    return QString("t%1").arg(t);
}

std::vector<int> TokenLayout::boundaries() const {
    std::vector<int> out;
    if (kind == Grid)
        for (int k = n; k < n * n; k += n) out.push_back(k);
    if (kind == Segments) {
        int start = 0;
        for (std::size_t i = 0; i + 1 < segments.size(); ++i) {
            start += segments[i].length;
            out.push_back(start);
        }
    }
    return out;
}

bool TokenLayout::operator==(const TokenLayout& o) const {
    if (kind != o.kind || n != o.n || segments.size() != o.segments.size()) return false;
    for (std::size_t i = 0; i < segments.size(); ++i)
        if (segments[i].label != o.segments[i].label || segments[i].length != o.segments[i].length ||
            segments[i].gridSide != o.segments[i].gridSide)
            return false;
    return true;
}

std::size_t NamedArray::count() const {
    std::size_t c = 1;
    for (int d : shape) c *= std::size_t(std::max(0, d));
    return c;
}

std::size_t NamedArray::stored() const {
    switch (type) {
    case ArrayType::F32: return f32.size();
    case ArrayType::U8: return u8.size();
    case ArrayType::I32: return i32.size();
    }
    return 0;
}

double NamedArray::at(std::size_t i) const {
    switch (type) {
    case ArrayType::F32: return i < f32.size() ? double(f32[i]) : NAN;
    case ArrayType::U8: return i < u8.size() ? double(u8[i]) : NAN;
    case ArrayType::I32: return i < i32.size() ? double(i32[i]) : NAN;
    }
    return NAN;
}

const NamedArray* Snapshot::array(const QString& name) const {
    auto it = arrays.find(name);
    return it == arrays.end() ? nullptr : &it->second;
}

const float* Snapshot::f32(const QString& name) const {
    const NamedArray* a = array(name);
    return a && a->type == ArrayType::F32 && !a->f32.empty() ? a->f32.data() : nullptr;
}

double Snapshot::scalar(const QString& name) const {
    auto it = scalars.find(name);
    return it == scalars.end() ? NAN : it->second;
}

NamedArray& Snapshot::add(const QString& name, ArrayType type, std::vector<int> shape) {
    NamedArray& a = arrays[name];
    a = NamedArray{};
    a.type = type;
    a.shape = std::move(shape);
    const std::size_t n = a.count();
    if (type == ArrayType::F32) a.f32.assign(n, 0.f);
    if (type == ArrayType::U8) a.u8.assign(n, 0);
    if (type == ArrayType::I32) a.i32.assign(n, 0);
    return a;
}

int Snapshot::layers() const {
    const NamedArray* a = array("attention");
    return a ? a->dim(0) : 0;
}
int Snapshot::heads() const {
    const NamedArray* a = array("attention");
    return a ? a->dim(1) : 0;
}
int Snapshot::seqLen() const {
    const NamedArray* a = array("attention");
    return a ? a->dim(2) : 0;
}
float Snapshot::attn(int l, int h, int q, int k) const {
    const NamedArray* a = array("attention");
    const std::size_t H = std::size_t(a->dim(1)), T = std::size_t(a->dim(2));
    return a->f32[((std::size_t(l) * H + std::size_t(h)) * T + std::size_t(q)) * T + std::size_t(k)];
}

}  // namespace plateau
