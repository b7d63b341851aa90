/**
 * MediaPipe FaceMesh's 468-point canonical face mesh (Kartynnik et al. 2019; the vertex numbering
 * of google/mediapipe `canonical_face_model.obj`) and its correspondence to the iBUG-300W 68-point
 * scheme, so that a face mesh gives the 68 points the geometry features read, and the two extra
 * points (`EXTRA_POINTS` in `ibug68.ts`) that the 68 lack.
 */
/** Points of the mesh. */
export const MESH468_POINTS = 468;

/**
 * Mesh vertex of each iBUG-68 point, in iBUG order. The starting point is the correspondence
 * `VTX68` that @vladmandic/human ships in `src/face/facemeshcoords.ts` (MIT; the one its 68-point
 * triangulation `TRI68` is built on). For the 17 points (and their mirror partners) that CFP's
 * hand-placed fiducials mark, the vertex is the one nearest, on average, to the hand-placed point
 * on CFP-dev people 151-250, disjoint from the people `bench:landmarks` measures on
 * (scripts/derive-mesh-ibug68-map.ts). That moved eight pairs off human's choice, where the vertex
 * named sits beside the landmark rather than on it: the outer eye corners (36/45: 33/263 -> 7/249,
 * error 0.075 -> 0.048 of the inter-ocular distance), the upper lids (37/44: 160/387 -> 159/386),
 * the inner eye corners (39/42: 133/362 -> 155/382), the nostrils (31/35: 98/327 -> 60/290, 0.107 ->
 * 0.044; 32/34: 97/326 -> 242/462) and the mouth corners (48/54: 57/287 -> 62/292, 0.147 -> 0.052).
 * The points CFP does not mark keep human's vertices: the brows, the lower nose bridge, the inner
 * lip corners, and the jaw contour (0-16), which has no anatomical definition in either scheme
 * except the chin (8, menton: vertex 152); its points are the mesh's face-oval vertices nearest to
 * where iBUG samples the contour, so they lie on the silhouette at about the right height rather
 * than on a defined landmark. The map is mirror-consistent: the mesh partner of
 * `MESH468_TO_IBUG68[k]` is `MESH468_TO_IBUG68[IBUG68_MIRROR[k]]` (tested against human's UV map),
 * so flip averaging on the 68 is flip averaging on the mesh.
 */
export const MESH468_TO_IBUG68: readonly number[] = [
  /* jaw 0-16 */ 127, 234, 132, 58, 172, 150, 149, 148, 152, 377, 378, 379, 397, 288, 361, 454, 356,
  /* brows 17-26 */ 70, 63, 105, 66, 107, 336, 296, 334, 293, 300,
  /* nasal bridge 27-30, lower nose 31-35 */ 168, 6, 195, 4, 60, 242, 2, 462, 290,
  /* eyes 36-47 */ 7, 159, 158, 155, 153, 144, 382, 385, 386, 249, 373, 380,
  /* outer lip 48-59 */ 62, 40, 37, 0, 267, 270, 292, 321, 314, 17, 84, 91,
  /* inner lip 60-67 */ 78, 81, 13, 311, 308, 402, 14, 178,
];

/**
 * Mesh vertex of each extra point after the 68 (`EXTRA_POINTS`: the image-left, then image-right
 * nasal sidewall at the nasal root): 245 and 465, mirror partners in human's UV map (u 0.450 and
 * 0.550 at v 0.400, the height of the bridge's midline vertex 6, between nasion 168 and 195).
 * Drawn on CFP frontal photos they sit where the nasal side wall meets the medial canthal region,
 * medial to the inner eye corner (155/382), the surface point over Farkas' maxillofrontale (mf),
 * whose distance mf-mf is the width of the nasal root (Farkas 1994). Of the sidewall pairs at that
 * height (122/351 on the slope beside the dorsum, 188/412 just below 245/465), their width is the
 * most repeatable across a person's photos: intra-class correlation 0.56 against 0.51 and 0.52 on
 * CFP-dev people 151-250, four frontal photos each (the inner canthal distance: 0.58).
 */
export const MESH468_EXTRAS: readonly number[] = [245, 465];

/** The mesh vertices the face-mesh model returns, in order: the 68, then the extras. */
export const MESH468_SELECT: readonly number[] = [...MESH468_TO_IBUG68, ...MESH468_EXTRAS];
