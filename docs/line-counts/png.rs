#[binrw]
#[brw(big)]
struct PngImageHeader {
    width: u32,
    height: u32,
    bit_depth: u8,
    #[br(assert([0, 2, 3, 4, 6].contains(&color_type)))]
    color_type: u8,
    compression: u8,
    filter: u8,
    interlace: u8,
}

#[binrw]
struct PngColor {
    red: u8,
    green: u8,
    blue: u8,
}

#[binrw]
#[brw(big)]
#[br(import(length: u32))]
struct PngPalette {
    #[br(count = length / 3)]
    colors: Vec<PngColor>,
}

#[binrw]
#[brw(big)]
#[br(import(kind: u32, length: u32))]
enum PngChunkData {
    #[br(pre_assert(kind == 0x49484452))]
    ImageHeader(PngImageHeader),
    #[br(pre_assert(kind == 0x504C5445))]
    Palette(#[br(args(length))] PngPalette),
    Raw(#[br(count = length)] Vec<u8>),
}

#[binrw]
#[brw(big)]
struct PngChunk {
    #[bw(calc = data_length(&data))] // a helper that measures the data: glue
    length: u32,
    kind: u32,
    #[br(args(kind, length))]
    data: PngChunkData,
    crc: u32, // no CRC support in binrw: a custom map/assert function is needed
}

#[binrw]
#[brw(big, magic = b"\x89PNG\r\n\x1a\n")]
struct PngFile {
    #[br(parse_with = until(|chunk: &PngChunk| chunk.kind == 0x49454E44))]
    chunks: Vec<PngChunk>,
}
