meta:
  id: gpt
  endian: le
types:
  header:
    seq:
      - id: signature
        contents: "EFI PART"
      - id: revision
        type: u4
      - id: header_size
        type: u4
      - id: header_crc
        type: u4
        # no CRC check in Kaitai: needs code outside the .ksy
      - id: reserved
        type: u4
        valid: 0
      - id: current_lba
        type: u8
      - id: backup_lba
        type: u8
      - id: first_usable_lba
        type: u8
      - id: last_usable_lba
        type: u8
      - id: disk_guid
        size: 16
      - id: entry_array_lba
        type: u8
      - id: entry_count
        type: u4
      - id: entry_size
        type: u4
        valid:
          min: 128
          max: 4096
      - id: entry_array_crc
        type: u4
  entry:
    seq:
      - id: type
        size: 16
      - id: unique
        size: 16
      - id: first_lba
        type: u8
      - id: last_lba
        type: u8
      - id: attributes
        type: u8
      - id: name
        type: str
        size: 72
        encoding: UTF-16LE
  entry_array:
    seq:
      - id: entries
        type: entry
        size: 128
        repeat: expr
        repeat-expr: 128
