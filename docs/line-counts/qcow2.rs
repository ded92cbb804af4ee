#[binrw]
#[brw(big)]
struct HeaderExtension {
    magic: u32,
    #[bw(calc = data.len() as u32)]
    length: u32,
    #[br(count = length)]
    data: Vec<u8>,
    #[br(count = (8 - length % 8) % 8)]
    padding: Vec<u8>,
}

#[binrw]
#[brw(big)]
struct BitmapDirectoryEntry {
    table_offset: u64,
    #[br(assert((1..=0x8000000).contains(&table_size)))]
    table_size: u32,
    #[br(assert(flags & !3 == 0))]
    flags: u32,
    #[br(assert(kind == 1))]
    kind: u8,
    #[br(assert((9..=31).contains(&granularity_bits)))]
    granularity_bits: u8,
    #[br(assert(name_size <= 1023))]
    #[bw(calc = name.len() as u16)]
    name_size: u16,
    #[br(assert(extra_data_size == 0))]
    #[bw(calc = extra_data.len() as u32)]
    extra_data_size: u32,
    #[br(count = extra_data_size)]
    extra_data: Vec<u8>,
    #[br(count = name_size)]
    name: Vec<u8>,
    #[br(count = (8 - (24 + extra_data_size as usize + name_size as usize) % 8) % 8)]
    padding: Vec<u8>,
}
