// IdMap: tensor id -> int64, open addressing with linear probing. The tape looks ids up on every
// recorded op and every backward step; std::unordered_map allocates a node per insert.
#pragma once
#include <cstdint>
#include <vector>

namespace tg {

class IdMap {
 public:
  IdMap() { reset(16); }

  const int64_t* find(int64_t id) const {
    for (size_t i = slot(id);; i = (i + 1) & mask_) {
      if (keys_[i] == id) return &vals_[i];
      if (keys_[i] == kEmpty) return nullptr;
    }
  }
  int64_t* find(int64_t id) { return const_cast<int64_t*>(static_cast<const IdMap*>(this)->find(id)); }
  bool count(int64_t id) const { return find(id) != nullptr; }
  size_t size() const { return size_; }

  // Inserts id -> v unless id is present; returns whether it inserted.
  bool emplace(int64_t id, int64_t v) {
    if (find(id)) return false;
    insert_new(id, v);
    return true;
  }
  // Inserts or overwrites.
  void set(int64_t id, int64_t v) {
    if (int64_t* p = find(id)) *p = v;
    else insert_new(id, v);
  }
  bool erase(int64_t id) {
    for (size_t i = slot(id);; i = (i + 1) & mask_) {
      if (keys_[i] == id) {
        keys_[i] = kTomb;
        --size_;
        return true;
      }
      if (keys_[i] == kEmpty) return false;
    }
  }
  void clear() { reset(16); }

 private:
  static constexpr int64_t kEmpty = 0;   // ids start at 1
  static constexpr int64_t kTomb = -1;

  size_t slot(int64_t id) const { return size_t((uint64_t(id) * 0x9E3779B97F4A7C15ull) >> 32) & mask_; }
  void reset(size_t cap) {
    keys_.assign(cap, kEmpty);
    vals_.assign(cap, 0);
    mask_ = cap - 1;
    size_ = used_ = 0;
  }
  void insert_new(int64_t id, int64_t v) {
    if ((used_ + 1) * 4 >= keys_.size() * 3) grow();
    size_t i = slot(id);
    while (keys_[i] != kEmpty && keys_[i] != kTomb) i = (i + 1) & mask_;
    if (keys_[i] == kEmpty) ++used_;
    keys_[i] = id;
    vals_[i] = v;
    ++size_;
  }
  void grow() {
    std::vector<int64_t> k = std::move(keys_), v = std::move(vals_);
    reset(size_ * 4 >= k.size() ? k.size() * 2 : k.size());
    for (size_t i = 0; i < k.size(); ++i)
      if (k[i] != kEmpty && k[i] != kTomb) insert_new(k[i], v[i]);
  }

  std::vector<int64_t> keys_, vals_;
  size_t mask_ = 0, size_ = 0, used_ = 0;
};

}  // namespace tg
