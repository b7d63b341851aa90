/**
 * Every default Phenoface uses lives here, and only here. Each stage reads its section of
 * {@link DEFAULTS}; `resolveConfig` merges a user's partial config over it and validates it.
 * Where a number comes from a paper or a reference implementation, the comment says which.
 */
import { PhenofaceError } from './errors.ts';
import type { View } from './types.ts';

/** Image decoding limits: what a bad or hostile file can cost us. */
export interface ImageConfig {
  /** Refuse images with more pixels than this (decompression bombs). 200 MP covers the largest phone sensors (108-200 MP). */
  maxPixels: number;
  /** Refuse files larger than this many bytes. */
  maxBytes: number;
  /** Images smaller than this on either side cannot hold a detectable face. */
  minSidePx: number;
  /**
   * Photos larger than this on their longer side are downscaled at decode time; detection on a
   * 12000x9000 photo gains nothing over 2048 px and would cost gigabytes.
   */
  maxSidePx: number;
}

/** MTCNN detection (Zhang et al. 2016; defaults as in facenet-pytorch's `MTCNN`). */
export interface DetectConfig {
  /**
   * Smallest face searched for, in pixels of the decoded photo (facenet-pytorch's `min_face_size`: 20).
   * It sets the pyramid's first scale, `12 / minFaceSizePx`; found faces are not filtered by size, as
   * in the reference, and P-Net's coarsest fitting level still finds faces down to about half of it
   * (docs/decisions.md). A photo whose shorter side is under it is refused (E_TOO_SMALL).
   */
  minFaceSizePx: number;
  /**
   * Optional lower bound on the face size relative to the photo's shorter side (0 = off).
   * Clinical photos hold one large face; raising this skips the pyramid's costly large scales
   * (with one level of slack; not a filter either).
   */
  minFaceRatio: number;
  /**
   * Where one face is to be chosen (embed, study, screen, serve; not `detect`, which lists every face):
   * photos whose shorter side exceeds 1.5x this are first searched in a copy scaled to this shorter
   * side. When the largest face found there is at least `sqrt(2) * minFaceSizePx` wide (so every face
   * the choice rule could prefer, at least half its area, was within that search) the choice is made
   * among those faces and the chosen one is re-located by O-Net on the full-size pixels; otherwise the
   * full-size photo is searched as `detect` does. A 1920 px photo then costs a 384 px pyramid
   * (face-api's SSD likewise sees 512 px). 0 = always search the full-size photo.
   */
  choiceSearchSidePx: number;
  /** Pyramid scale factor (facenet-pytorch: 0.709 = 1/sqrt(2)). */
  scaleFactor: number;
  /** Face-probability thresholds of P-Net, R-Net, O-Net (facenet-pytorch: 0.6, 0.7, 0.7). */
  thresholds: { pnet: number; rnet: number; onet: number };
  /** NMS IoU thresholds (facenet-pytorch detect_face: 0.5 per scale, 0.7 across, 0.7 R-Net, 0.7 "Min" O-Net). */
  nms: { perScale: number; acrossScales: number; rnet: number; onet: number };
  /**
   * Where one face is chosen: the check that it is not on its side or upside down (a photo whose
   * orientation tag was lost), `pipeline/orientation.ts`. A chosen face scoring below `belowScore`
   * is looked for again in a square crop `cropScale` face sizes wide about it, resized to
   * `cropSidePx`, turned each quarter turn; a turn is
   * reported (quality flag `turned`) when its face scores at least `turnedScore` and `margin` more
   * than the unturned crop's. A face whose two eye points lie `sideRollDeg` or more from level is
   * checked whatever its score, and the turn that stands those points upright is reported when its
   * face scores at least `turnedScore`. `belowScore` 0 turns the whole check off.
   */
  turnCheck: TurnCheckConfig;
}

/** Settings of the orientation check (`detect.turnCheck`). */
export interface TurnCheckConfig {
  belowScore: number;
  turnedScore: number;
  margin: number;
  /**
   * Roll of the five points (degrees from level, either way) from which a face is checked at any
   * score: the detector sometimes finds a face on its side surely, with its points on the turned
   * eyes. No upright face of 1,150 came within 45 degrees of it (docs/decisions.md).
   */
  sideRollDeg: number;
  /** Side of the square crop about the face, in face sizes (the box's longer side). */
  cropScale: number;
  cropSidePx: number;
}

/** Head pose and view bands. */
export interface PoseConfig {
  /** |yaw| below this is `frontal` (degrees). */
  frontalMaxYawDeg: number;
  /** |yaw| at or above this is `profile` (degrees); in between is `oblique`. */
  profileMinYawDeg: number;
}

/** Quality checks applied to each face. */
export interface QualityConfig {
  /** Faces whose box is smaller than this (shorter side, px) are flagged `small`. */
  minFaceSidePx: number;
  /** Variance-of-Laplacian below this on the aligned face is flagged `blurry`. */
  minSharpness: number;
  /** Faces the detector scored below this are flagged `low-confidence`. */
  minScore: number;
}

/** Embedding backbones. */
export interface EmbedConfig {
  /** The default backbone's registry name. */
  backbone: string;
  /** Threads onnxruntime may use inside one session. */
  intraOpThreads: number;
  /**
   * Worker threads of a batch (`embed`, `study`), each with its own pipeline and one onnxruntime
   * thread per operator; 0 = one per core. onnxruntime-node runs on the calling thread, so this,
   * not `intraOpThreads`, is what keeps every core busy on a batch.
   */
  workers: number;
  /**
   * Which five points the face is aligned on before embedding. `landmarks`: the dense landmarks'
   * five points (the eye contours' centroids, the nose tip, the mouth corners) onto the landmark
   * model's own ArcFace-space template. `detector`: MTCNN's five points onto the backbone's
   * template, as insightface aligns. On close-ups, where the face fills the photo, MTCNN's box
   * overshoots the photo and its points land off the features (the eye point 0.30 inter-ocular
   * distances off in the median on CFP-dev's frontal photos): CFP close-up verification AUC is
   * 0.9997 aligned on the landmarks against 0.948 on MTCNN's points, and LFW (centred faces, where
   * both agree) is unchanged (docs/decisions.md, `scripts/measure-alignment-points.ts`,
   * `bench:lfw`). Costs one run of the landmark model per face (7.5-9 ms).
   */
  alignOn: 'landmarks' | 'detector';
}

/** Dense face landmarks (`src/landmarks/`), the input of the geometry features. */
export interface LandmarksConfig {
  /**
   * The dense landmark model run on a face when landmarks are asked for (a study's photos,
   * `detect --landmarks dense`). `facemesh`: MediaPipe's 468-point face mesh, reduced to the 68
   * iBUG-300W points; `face-landmark68`: face-api's FaceLandmark68Net, the 68 points directly. The
   * mesh is the default because the features made from the points see more with it: on three
   * planted CFP sets (100 people each, frontal) the geometry block's subject AUC was 0.684, 0.768
   * and 0.607 with the mesh against 0.596, 0.676 and 0.562 with the 68-point model, whose points
   * stay closer to its mean shape. On CFP's fiducials it is also slightly more accurate (0.052
   * against 0.056 of the eye distance), less repeatable between one person's photos (0.031 against
   * 0.027), and costs 7.5-9 ms per face without `flip` (docs/decisions.md, `bench:landmarks`).
   */
  model: string;
  /**
   * Passes of the model per face: 1 crops by the detector's five points; 2 crops again by the five
   * points the first pass's landmarks define, which recovers faces whose detector points are off
   * (CFP's close head crops; docs/decisions.md). Each pass costs one run of the model.
   */
  passes: number;
  /**
   * Also run the model on the mirrored crop and average each point with its mirror partner's
   * mirrored position (test-time flip augmentation, as in face alignment benchmarks since
   * Newell et al. 2016): the model's error is partly unsystematic, and averaging two views of
   * the face halves its variance at the cost of one more run per pass (`bench:landmarks`). Off by
   * default: it brings face-landmark68 from 0.064 to 0.056 of the eye distance, but leaves the
   * mesh's error as it is (0.052) and doubles its cost.
   */
  flip: boolean;
  /**
   * With the `facemesh` model (ignored with others), place the eye points (iBUG 36-47) by
   * MediaPipe's iris landmark model (Ablavatski et al. 2020) on a crop around each eye, as
   * MediaPipe's own face pipeline refines its mesh (`src/landmarks/eyes.ts`). The whole-face mesh
   * barely follows a change of the eyes' shape: on CFP frontal photos whose eyes were planted
   * with palpebral fissures 10-12% shorter (`synth --regions periorbital --strength 1`, the 30
   * photos whose planting sat on the eyes), the mesh measured the fissure -0.1 to -0.3% shorter
   * and the eye opening -8 to -9%; refined, -4.5 to -5.5% and -16 to -18% (the opening was
   * planted -24 to -26%). On CFP-dev's hand-placed points (people 1-60, 239 frontal photos) the
   * refined corners are as accurate (0.050 and 0.041 of the eye distance, outer and inner,
   * against 0.050 and 0.041) and the lids slightly more (0.050 against 0.052;
   * scripts/derive-iris-eye-map.ts). Between re-encodings of one photo the refined fissure length
   * varies more (standard deviation 0.5-0.7% against 0.2-0.3%). On by default: with it the geometry
   * block's subject AUC on a planted set (bench:synth, strength 0.5, frontal) rose from 0.724 to
   * 0.775, its null (strength 0) stayed 0.608, and anchored on the features the planted fissures
   * read -4.8 to -5.4% against the mesh's -0.1% (scripts/measure-landmark-tracking.ts). The face is
   * still aligned on the mesh's own points (`alignPoints`, before the refinement). Costs 7 ms per
   * face on one core (both eyes, one batch), only where the points are returned.
   */
  refineEyes: boolean;
}

/** Limits and capacity of the web server (`phenoface serve`, `src/server/`). Every field is a bound on what one client can cost. */
export interface ServerConfig {
  /** Interface to listen on. Loopback by default: a hospital PC's screening tool is not a LAN service. */
  host: string;
  /** TCP port (0 = any free port). */
  port: number;
  /** Largest accepted photo, in bytes. Phone photos are 2-12 MB. */
  maxFileBytes: number;
  /** Largest accepted photo, in pixels, read from the header before any pixel is decoded. */
  maxPixels: number;
  /** Most photos in one request: one patient's photos, not a data set. */
  maxFiles: number;
  /** Screenings run at once. Each uses the model's threads; two suit a 2-core machine. */
  concurrency: number;
  /** Screenings that may wait (uploaded, queued) beyond those running; more get 503 with Retry-After. */
  queueSize: number;
  /**
   * Upload bytes held in memory by all admitted requests together; beyond it new uploads get 503.
   * Bounds RAM when every queued request carries ten 20 MB photos (10 x 10 x 20 MB would be 2 GB).
   */
  maxBufferedBytes: number;
  /** Whole-request deadline (slow uploads included), in milliseconds. */
  requestTimeoutMs: number;
  /**
   * Shortest time an upload may take to arrive, in milliseconds, however small it is. Covers a
   * slow start (TCP slow start, a phone waking its radio) before the per-MB allowance matters.
   */
  uploadMinMs: number;
  /**
   * Time allowed per MB (2^20 bytes) of an upload, in milliseconds: the Content-Length when given
   * (capped at the largest request the limits allow), otherwise the bytes received so far. 2 s/MB
   * asks for 0.5 MB/s (4 Mbit/s), which a hospital network or a phone on Wi-Fi sustains; a client
   * slower than that is cut off (408) rather than holding a connection and its bytes in memory.
   * An upload's deadline is max(uploadMinMs, uploadMsPerMB x MB), never beyond requestTimeoutMs.
   */
  uploadMsPerMB: number;
  /**
   * Uploads one client address may send at once. The web page sends one request at a time, so a
   * handful allows a few tabs; more is a client holding connections open. Behind a reverse proxy
   * every client shares the proxy's address, so raise it there.
   */
  maxUploadsPerClient: number;
  /**
   * On shutdown, how long responses already being written may take, in milliseconds, before every
   * connection is closed. Uploads still arriving are refused at once: no screening has begun on them.
   */
  shutdownGraceMs: number;
  /**
   * Under `npx` / `npm exec`, how often the server checks that npm (and the shell it started) is
   * still there, in milliseconds: a stopped npx leaves the server running at most about this long.
   */
  launcherPollMs: number;
  /** Shortest access token accepted, in characters (16 random hex characters = 64 bits). */
  minTokenLength: number;
}

/** Manifests, data sets, the embedding cache and leakage checks (`src/data/`). */
export interface DataConfig {
  /** The two classes of the CLI contract's manifest, positive first (Baek et al. 2025: VCFS vs controls). */
  classes: readonly [string, string];
  /** Photos embedded at once. One: onnxruntime already spreads one photo over the cores. */
  concurrency: number;
  /** Files hashed at once before embedding (I/O bound, so more than the embedding concurrency). */
  hashConcurrency: number;
  /** A manifest error lists at most this many problems in its message (all are in `details`). */
  maxListedProblems: number;
  /**
   * Most values an embeddings file's vector may have. Face-recognition embeddings have 128 to 512
   * (VGG-Face's widest, 4096); far wider vectors are something else (pixels, feature maps), and the
   * classifiers' cost grows with the width: 55 records of 100,000 values took 11 minutes for one
   * 3-fold pass on 2 cores.
   */
  maxEmbeddingDim: number;
  /**
   * Worker threads that check a manifest's photo files (one `lstat` each) while the main thread
   * reads rows; at most the cores there are. Two: on 2 cores, 1,000,000 checks take about half the
   * time of one thread (`bench:manifest`).
   */
  fileCheckThreads: number;
  /** Below this many photos the files are checked on the main thread: starting a thread costs more than it saves. */
  fileCheckThreadsFromPaths: number;
  /** Cosine above which two different files are treated as the same photo (re-encoded, resized). */
  nearDuplicateCosine: number;
  /**
   * Two subject ids are flagged as one person when their centroid cosine reaches the median minus
   * this many robust standard deviations of the split-half centroid cosines within subjects
   * (`leakage.ts`): 3, the usual outlier fence, so few real subjects fall below it.
   */
  identityRobustK: number;
  /** Same-person pairs must also be mutual nearest subjects (cuts look-alike false alarms ~6x on CFP). */
  identityMutualNearest: boolean;
  /** Calibrating the identity threshold needs at least this many subjects with two or more photos. */
  identityMinCalibrationSubjects: number;
  /**
   * Fallback identity threshold (centroid cosine) when calibration is impossible. MobileFaceNet on
   * CFP (60 people): impostor centroid cosines reached 0.737, split-half ones had median 0.886.
   */
  identityAbsoluteCosine: number;
  /**
   * Per backbone, the cosine below which a screened frontal photo's face, against the mean of the
   * person's other frontal photos, is warned as perhaps another person's: a screening fuses every
   * photo it is given as one person's. MobileFaceNet on CFP-dev's frontal photos (250 people): 0.1%
   * to 0.5% of a person's photos fall below 0.3 against one to five of their others, and 95-98% of
   * another person's photos do. Other views are not checked: a profile against frontal photos falls
   * below 0.3 for 17% of one person's. A backbone without an entry is not checked.
   */
  samePersonMinCosine: Readonly<Record<string, number>>;
  /** Without a terminal, the progress reporter prints a line every this fraction of the work... */
  progressStepFraction: number;
  /** ...or every this many seconds, whichever comes first... */
  progressIntervalSec: number;
  /** ...but never more often than this (a phase over in a second prints its last line only). */
  progressMinIntervalSec: number;
}

/** A classifier family's hyperparameter grid and the label-free value used when tuning is off. */
export interface ClassifierFamilyConfig {
  /** Values searched by the inner CV, in search order. */
  grid: readonly number[];
  /** The value the permutation test uses (no tuning on shuffled labels). */
  fixed: number;
}

/** The classifiers (`src/classify/`): nothing there hard-codes a tunable number. */
export interface ClassifyConfig {
  /** The classifier a study uses unless told otherwise. */
  classifier: string;
  /** Folds of the inner subject-grouped CV that picks the hyperparameter and fits calibration. */
  innerFolds: number;
  /**
   * The inner CV walks each grid from strongest to weakest regularisation and stops after this
   * many values in a row fail to improve the best log-loss: log-loss against log C is unimodal in
   * practice, and the weakly regularised fits it skips are the slowest to solve.
   */
  patience: number;
  /**
   * Logistic regression C (scikit-learn convention: ½‖w‖² + C·Σ loss), log-spaced. On 128-512-D
   * standardised embeddings of a few hundred subjects the optimum sits around 1e-3..1e-1.
   */
  logistic: ClassifierFamilyConfig;
  /** Linear SVM C (½‖w‖² + C·Σ hinge), log-spaced. */
  svm: ClassifierFamilyConfig;
  /**
   * Nearest-neighbour k of the cosine classifier, smoothest first; 0 means the class centroids.
   * Each training subject is one gallery entry (the mean of its photos).
   */
  centroid: ClassifierFamilyConfig;
  /** The ranked differential of a study with three or more classes (`src/classify/ranker.ts`). */
  ranking: RankingConfig;
}

/**
 * The ranking classifiers: multinomial L2 logistic regression and a GestaltMatcher-style cosine
 * gallery (Hsieh et al. 2022). The inner subject-grouped CV picks the family and its setting by
 * out-of-fold log-loss over every class.
 */
export interface RankingConfig {
  /** `auto` (the inner CV picks between the families), `multinomial` or `gallery`. */
  classifier: 'auto' | 'multinomial' | 'gallery';
  /**
   * Multinomial C (½‖W‖² + C·Σ cross-entropy, scikit-learn's convention) on standardised features,
   * strongest regularisation first; the walk stops per `patience`.
   */
  multinomial: { grid: readonly number[] };
  /**
   * Gallery k, smoothest first: 0 scores a class by the cosine to its centroid; k >= 1 by the mean
   * cosine of the k nearest training subjects of that class (each subject is one gallery entry,
   * the mean of its photos).
   */
  gallery: { grid: readonly number[] };
  /** Softmax temperatures tried for the gallery's cosines (chosen by inner out-of-fold log-loss). */
  galleryTemperatures: readonly number[];
  /** Largest gradient entry of the multinomial objective accepted as converged. */
  gradTol: number;
  /** Iteration cap of the multinomial solver. */
  maxIterations: number;
}

/** The evaluation (`src/evaluate/`: cross-validation, bootstrap, permutation test). */
export interface EvaluateConfig {
  /**
   * Outer folds: a study not told how many runs this many, or the most its smallest class allows.
   * Ten, not five: cross-validation measures models trained on (K-1)/K of the people, and the
   * model a study saves is trained on all of them; with the hundred-odd people of a clinical study
   * the 80% of five folds measures a weaker model than the one saved (Kohavi 1995 recommends ten).
   * On five planted sets of two planting tools (100 people each) every set's subject AUC rose with
   * ten folds, by 0.010 to 0.029 (docs/decisions.md).
   */
  folds: number;
  /** Repeats of the outer K-fold with fresh shuffles; averaging them removes split luck. */
  repeats: number;
  /**
   * Outer folds of the permutation test, at most `folds`: it asks whether there is any signal at
   * all, on its own splits of the real labels and of each permutation, and with a hundred
   * permutations its fits are most of a study's time.
   */
  permutationFolds: number;
  /** Seed of the splits, the bootstrap and the permutations. */
  seed: number;
  /** Population prevalence for PPV/NPV: 22q11.2DS in about 1 in 4,000 births (McDonald-McGinn et al. 2015). */
  prevalence: number;
  /** Subject-level bootstrap replicates for the 95% percentile intervals. */
  bootstrap: number;
  /** Label permutations of the permutation test (p resolves to 1/101). */
  permutations: number;
  /** Repeats of the K-fold per permutation (and for the statistic it is compared with). */
  permutationRepeats: number;
  /** Equal-width bins of the reliability curve. */
  calibrationBins: number;
  /** Points of the fixed false-positive-rate grid used to average ROC curves and draw their bands. */
  rocGridPoints: number;
  /** A bootstrap interval is reported only when at least this share of replicates define the metric. */
  minDefinedReplicates: number;
  /**
   * People each class present in a group (a held-out site) must have for the group's own bootstrap,
   * which draws its people within their class: with one, every replicate draws that same person, and
   * the interval would leave out that class's variation altogether, so the group gets none.
   */
  groupBootstrapMinPerClass: number;
  /**
   * Where the subgroup tables cut an `age` column written as numbers (years): each band runs from
   * one edge up to the next: infancy, early and middle childhood, adolescence and adulthood, stages
   * in which a face's proportions differ; one row per distinct age would leave a handful of people
   * in each.
   */
  ageBandsYears: readonly number[];
}

/** The effort of a demo run: photos per person and the study's settings. */
export interface DemoEffort {
  photosPerPerson: number;
  folds: number;
  repeats: number;
  bootstrap: number;
  permutations: number;
}

/** `phenoface demo` (`src/workflows/demo/demo.ts`): the synthetic study it runs. */
export interface DemoConfig {
  /** Output folder, relative to the working directory. */
  out: string;
  /** Clearly visible (1 = obvious): the demo shows that a planted signal is found, not how subtle it may be. */
  strength: number;
  seed: number;
  /** Share of the people the warp is planted in. */
  fraction: number;
  /** A full run. */
  full: DemoEffort;
  /** `--quick` (the integration test). */
  quick: DemoEffort;
  /** Fewest people with a usable face: two held out, and at least 3 per class left for the folds. */
  minPeople: number;
}

/** Ranges of each demo photo's augmentation, each drawn uniformly per photo. Mild, as between real snapshots. */
export interface AugmentConfig {
  rotationDeg: number;
  scale: readonly [number, number];
  /** Shift of the face, as a fraction of the photo's side. */
  shift: number;
  brightness: readonly [number, number];
  contrast: readonly [number, number];
  saturation: readonly [number, number];
  /** Per-channel gain of red against blue (white balance), +- this. */
  warmth: number;
  /** Gaussian blur sigma, px; below 0.3 (sharp's minimum) no blur. */
  blurSigma: readonly [number, number];
  jpegQuality: readonly [number, number];
}

/**
 * Which of the bundled group photos' faces become the demo's people (`src/workflows/demo/people.ts`), and the
 * size of their photos. A face must be at least `minFacePx` on its shorter box side in the group
 * photo (this drops a 68-px false detection on a patterned dress in sample4) and score at least
 * `minScore` (this drops two faces looking steeply down in sample2, scored 0.78 and 0.81, which the
 * detector then missed in 5 of their 6 augmented photos; the other 20 score >= 0.99). Its crop spans
 * `cropFaces` face sizes, resampled to `basePx`, and each photo shows the middle of that crop at
 * `photoPx` (face ~170 px). Detection in the group photos and in the people's photos searches faces
 * from `detectMinFacePx` up (MTCNN's default 20 px builds a pyramid ~5x as costly on 1920-px photos,
 * for faces the demo drops anyway).
 */
export interface PeopleConfig {
  minFacePx: number;
  minScore: number;
  cropFaces: number;
  basePx: number;
  photoPx: number;
  detectMinFacePx: number;
  augment: AugmentConfig;
}

/** A study's explanation section (`src/workflows/study/explanation.ts`). */
export interface StudyExplainConfig {
  /**
   * At most this many photos are explained in a study (keeps `study` bounded: each photo's
   * 14x14 contrastive map costs four exact gradients, for the final, shuffled-label, randomised
   * and randomised-head models, ~0.4-0.6 s per photo on 2 cores).
   */
  maxPhotos: number;
  /** At most this many photos per subject, so the sample spreads over subjects. */
  maxPhotosPerSubject: number;
  /**
   * Correctly classified positive photos of the sample that also get a 14x14 occlusion map
   * (196 forward passes, ~3 s each on 2 cores), for the final and the shuffled-label model.
   */
  occlusionMapPhotos: number;
  /**
   * Correctly classified positive photos of the sample that also get the 14x14 Grad-CAM and
   * HiResCAM without a reference, for comparison with the study's contrastive map (they reuse its
   * gradients, so they cost little).
   */
  fineCamPhotos: number;
  /** Subject bootstrap replicates of the region-share intervals. */
  bootstrap: number;
  /** Seed of the sample, the bootstrap and the randomised models. */
  seed: number;
  /**
   * Sanity checks (Adebayo et al., NeurIPS 2018, "Sanity Checks for Saliency Maps"): an
   * explanation whose mean Spearman rank correlation with that of a randomised or
   * shuffled-label model is at least this high "does not change" and is flagged. Adebayo et al.
   * call a method insensitive when its maps stay highly rank-correlated (their Fig. 2-4); 0.5 is a
   * moderate correlation, so a flag means the randomised model's map still resembles the real one.
   */
  sanityMaxSpearman: number;
  /**
   * Occlusion check: the mean (over people) Spearman rank correlation, over the 9 regions, of the
   * score drop when a region is greyed out with the region's share of the heat map must reach this
   * for the two methods to count as agreeing. The same moderate correlation as
   * `sanityMaxSpearman`, from the other side: below it the two rank the regions differently, and
   * the region ranking should not be read without that caveat. (For a single photo, 0.6 is the 5%
   * one-sided critical value of Spearman's rho over 9 regions.)
   */
  occlusionMinAgreement: number;
  /**
   * Heat per pixel outside the face relative to inside it at or above which the report warns of
   * shortcut learning. A flat map gives 1; on planted sets with identical backgrounds the
   * contrastive map's ratio is about 0.1 (the 7x7 Grad-CAM's, whose cells are broad, about 1.0),
   * so clearly more heat outside the face than on it (1.5x) is flagged.
   */
  outsideFaceDensityWarn: number;
}

/** Heat maps and region scores (`src/explain/`). */
export interface ExplainConfig {
  overlay: {
    /** Colour weight of overlays (pytorch-grad-cam's `show_cam_on_image` uses 0.5; a little less keeps the face readable). */
    alpha: number;
    /** The Grad-CAM paper's colour scale. */
    colormap: 'jet';
    /**
     * Overlay only the warm part: the colour's weight grows with the heat's place on the scale
     * (`alpha * t`), so where there is no evidence for the positive class the face shows untouched
     * instead of under the scale's cold colour.
     */
    warmOnly: boolean;
  };
  /**
   * The percentile of the heat, pooled over the pixels of the study's positive-class photos, that
   * is the hot end of the colour scale shared across photos (`model/explain-scale.json`). A high
   * percentile rather than the maximum, so that one outlying photo does not make every other map
   * pale: the top 1% of positive-class heat is drawn in the hottest colour.
   */
  heatScalePercentile: number;
  /**
   * Grad-CAM's finer layer per backbone: the output of MobileFaceNet's last 14x14 bottleneck
   * (Chen et al. 2018, Table 1: the sixth of the 14x14 stage's residual blocks, 128 channels),
   * the last map before the stride-2 block that makes the 7x7 one.
   */
  fineLayer: Record<string, string>;
  /**
   * The map `screen --explain` and the web app draw (`src/workflows/screen/explainer.ts`, SCREEN_CAMS): the
   * only one that met the planted-region target (bench:explain).
   */
  screen: {
    cam: 'contrastive' | 'hirescam' | 'gradcam' | 'gradcam-14x14';
    /** Longer side, px, of the photo overlay the web app receives as a data URL: keeps responses small. */
    photoOverlayMaxSidePx: number;
  };
  /** Grey that occluded regions are filled with: the input normalisation's zero ((x - 127.5) / 128 ~ 0). */
  occlusionGrey: number;
  study: StudyExplainConfig;
}

/**
 * What a study learns from (`src/features/`): the representations of a face and how the study
 * chooses and fuses them.
 */
export interface FeaturesConfig {
  /**
   * `--features` unless told: `auto` stacks the representations and lets the inner subject-grouped
   * CV of each training set weigh them (see `fusionMinGain`); or one name or `A+B`.
   */
  default: string;
  /**
   * The backbone's mid-level maps pooled inside each facial region, per backbone: MobileFaceNet's
   * last 14x14 bottleneck (128 channels, cells 8 px apart on the 112 px crop) and its last 28x28
   * one (64 channels, 4 px apart; Chen et al. 2018, Table 1): the finest maps whose cells still
   * resolve the nose and the eyes.
   */
  regionLayers: Record<string, readonly string[]>;
  /**
   * Per study backbone, a second face-recognition network whose L2-normalised embedding joins the
   * backbone's in the embedding block (the two vectors side by side, one classifier on both).
   * dlib's ResNet was trained on other faces with another loss, so it errs elsewhere: on six planted
   * CFP sets (two planting tools, 100 people each, 5x5 CV, same folds) the two together gained
   * 0.008-0.027 of subject AUC over MobileFaceNet alone, and inside `auto`'s stack 0.013-0.020 on the
   * four sets of the independent planting tool (docs/benchmarks.md). Stacked as a block of its own
   * it gained less. A backbone without an entry learns from its own embedding alone.
   */
  secondBackbone: Record<string, string>;
  /**
   * The stacked fusion's combiner: L2 logistic regression on the blocks' out-of-fold logits, with
   * this C (scikit-learn convention). Two or three inputs need little regularisation; 1 keeps the
   * weights from running away on separable folds.
   */
  stackC: number;
  /**
   * `auto` takes the stack of every representation (dropping those its non-negative combiner gives
   * weight 0) unless a smaller candidate lowers the stack's inner out-of-fold log-loss by more than
   * this (nats per photo). 0.05: on three planted CFP sets (100 people each, 2x5-fold CV) it kept
   * the stack in every fold, as the best AUC there did; 0.02 let noise pick a single block in 2-3
   * folds of 10 and lost up to 0.015 of subject AUC, and choosing the best candidate outright lost
   * 0.01-0.04 (docs/decisions.md). A smaller candidate must be far better, since the stack's
   * weights already drop a block that does not help.
   */
  fusionMinGain: number;
  /**
   * The representations `auto` stacks (when the photos supply them); any installed one can
   * still be asked for by name. All three: on a 100-person planted study (995 frontal photos, 5x5 CV
   * and 10 permutations, cached) geometry among the candidates took 113.5 s instead of 110 s, and
   * where a planting moves the landmarks more than the network sees, it is the block that finds it
   * (docs/decisions.md).
   */
  autoCandidates: readonly string[];
}

/** `phenoface synth` (`src/workflows/synth/`). */
export interface SynthConfig {
  /** Share of subjects made affected. */
  fraction: number;
  seed: number;
  /**
   * Per-subject jitter: the subject's strength and each amount are multiplied by factors drawn
   * uniformly from [1 - jitter, 1 + jitter], so affected people differ from each other.
   */
  jitter: number;
  /** JPEG quality of every written photo, cases and controls alike. */
  jpegQuality: number;
  /** Photos shown (before / planted / strength 1) in the `--preview` contact sheet. */
  previewPhotos: number;
}

/** The geometry representation (`src/features/geometry.ts`). */
export interface GeometryConfig {
  /**
   * Principal axes of the Procrustes-aligned shape kept per view: the fewest that explain this
   * fraction of the training shapes' variance; 1 keeps the 136 aligned coordinates unreduced.
   * 0.99 matched the unreduced shape's AUC at a thirteenth of its fitting time, and 0.95 lost 0.03
   * (planted CFP set, docs/decisions.md).
   */
  shapeVariance: number;
  /** A view gets its own shape and panel columns only with at least this many training photos with landmarks. */
  minViewPhotos: number;
}

/** The clinician's measurements (`src/features/measurements.ts`). */
export interface MeasurementsConfig {
  /** |z| beyond which a measurement gets its HPO terms (the HPO's objective criteria use 2 SD; Allanson et al. 2009). */
  hpoZ: number;
  /** A measurement gets a z-score in a view only when that many control people have it there. */
  minControlSubjects: number;
  /**
   * A face is measured only when its detected box's shorter side has at least this many pixels.
   * Smaller, the landmarks' error from the face's resolution alone grows past half the spread
   * between people (`npm run bench:face-size`, CFP-dev's frontal photos scaled down): a z-score
   * would then measure the photo's size as much as the face. Such a photo is still screened; the
   * study leaves it out of its norms and `screen` gives it no measurements, and says why.
   */
  minFaceSidePx: number;
}

/** The whole configuration: one section per stage and workflow. */
export interface PhenofaceConfig {
  image: ImageConfig;
  detect: DetectConfig;
  pose: PoseConfig;
  quality: QualityConfig;
  embed: EmbedConfig;
  landmarks: LandmarksConfig;
  data: DataConfig;
  classify: ClassifyConfig;
  evaluate: EvaluateConfig;
  explain: ExplainConfig;
  features: FeaturesConfig;
  server: ServerConfig;
  synth: SynthConfig;
  demo: DemoConfig;
  people: PeopleConfig;
  geometry: GeometryConfig;
  measurements: MeasurementsConfig;
}

/** A configuration that nothing may change (nested sections included). */
export type FrozenConfig<T> = { readonly [K in keyof T]: T[K] extends object ? FrozenConfig<T[K]> : T[K] };

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** The defaults, frozen all the way down: copy with `resolveConfig` to change anything. */
export const DEFAULTS: FrozenConfig<PhenofaceConfig> = deepFreeze<PhenofaceConfig>({
  image: { maxPixels: 200_000_000, maxBytes: 200 * 1024 * 1024, minSidePx: 12, maxSidePx: 2048 },
  detect: {
    minFaceSizePx: 20,
    minFaceRatio: 0,
    choiceSearchSidePx: 384,
    scaleFactor: 0.709,
    thresholds: { pnet: 0.6, rnet: 0.7, onet: 0.7 },
    nms: { perScale: 0.5, acrossScales: 0.7, rnet: 0.7, onet: 0.7 },
    // On 1,150 upright LFW, CFP and shared-set photos 11 chosen faces scored below 0.99, none rolled
    // 45 degrees or more, and none was reported turned; of the faces still found on the same photos
    // turned a quarter or half turn, 86% were reported with the right turn and none with a wrong one
    // (docs/decisions.md).
    turnCheck: { belowScore: 0.99, turnedScore: 0.99, margin: 0.02, sideRollDeg: 60, cropScale: 2.5, cropSidePx: 180 },
  },
  // Yaw bands on the landmark-based estimate: within 20 deg both eyes and the whole face are clearly
  // visible (CFP's and Multi-PIE's "frontal"). From 45 deg of ESTIMATED yaw a photo is profile: five
  // MTCNN landmarks saturate on near-full profiles (MTCNN places the hidden eye on the visible side, so
  // a 90 deg profile reads 40-65 deg), and a nose tip outside the eyes' span (one eye hidden) is
  // profile whatever the estimate.
  pose: { frontalMaxYawDeg: 20, profileMinYawDeg: 45 },
  quality: { minFaceSidePx: 40, minSharpness: 20, minScore: 0.9 },
  embed: { backbone: 'mobilefacenet', intraOpThreads: 2, workers: 0, alignOn: 'landmarks' },
  landmarks: { model: 'facemesh', passes: 2, flip: false, refineEyes: true },
  data: {
    classes: ['vcfs', 'control'],
    concurrency: 1,
    hashConcurrency: 4,
    maxListedProblems: 20,
    maxEmbeddingDim: 4096,
    fileCheckThreads: 2,
    fileCheckThreadsFromPaths: 50_000,
    nearDuplicateCosine: 0.995,
    identityRobustK: 3,
    identityMutualNearest: true,
    identityMinCalibrationSubjects: 5,
    identityAbsoluteCosine: 0.75,
    samePersonMinCosine: { mobilefacenet: 0.3 },
    progressStepFraction: 0.05,
    progressIntervalSec: 10,
    progressMinIntervalSec: 1,
  },
  classify: {
    classifier: 'logistic',
    innerFolds: 3,
    patience: 1,
    logistic: { grid: [1e-3, 1e-2, 1e-1, 1, 10, 100, 1000], fixed: 1e-2 },
    svm: { grid: [1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10], fixed: 1e-3 },
    centroid: { grid: [0, 25, 10, 5, 3, 1], fixed: 0 },
    ranking: {
      classifier: 'auto',
      multinomial: { grid: [1e-3, 1e-2, 1e-1, 1, 10] },
      gallery: { grid: [0, 5, 3, 1] },
      galleryTemperatures: [0.01, 0.02, 0.03, 0.05, 0.08, 0.12, 0.2, 0.3, 0.5],
      gradTol: 1e-4,
      maxIterations: 500,
    },
  },
  evaluate: {
    folds: 10,
    repeats: 3,
    permutationFolds: 5,
    seed: 1,
    prevalence: 1 / 4000,
    bootstrap: 1000,
    permutations: 100,
    permutationRepeats: 1,
    calibrationBins: 10,
    rocGridPoints: 101,
    minDefinedReplicates: 0.9,
    groupBootstrapMinPerClass: 2,
    ageBandsYears: [2, 6, 12, 18],
  },
  explain: {
    overlay: { alpha: 0.45, colormap: 'jet', warmOnly: true },
    heatScalePercentile: 0.99,
    fineLayer: { mobilefacenet: 'MobileFaceNet/MobileFaceNet/Conv2d_4_InvResBlock_5/Add' },
    screen: { cam: 'contrastive', photoOverlayMaxSidePx: 800 },
    occlusionGrey: 128,
    study: {
      maxPhotos: 200,
      maxPhotosPerSubject: 2,
      occlusionMapPhotos: 30,
      fineCamPhotos: 100,
      bootstrap: 1000,
      seed: 1,
      sanityMaxSpearman: 0.5,
      occlusionMinAgreement: 0.5,
      outsideFaceDensityWarn: 1.5,
    },
  },
  features: {
    default: 'auto',
    regionLayers: {
      mobilefacenet: ['MobileFaceNet/MobileFaceNet/Conv2d_4_InvResBlock_5/Add', 'MobileFaceNet/MobileFaceNet/Conv2d_2_InvResBlock_4/Add'],
    },
    secondBackbone: { mobilefacenet: 'dlib-resnet' },
    stackC: 1,
    fusionMinGain: 0.05,
    autoCandidates: ['embedding', 'regions', 'geometry'],
  },
  server: {
    host: '127.0.0.1',
    port: 8080,
    maxFileBytes: 20 * 1024 * 1024,
    maxPixels: 50_000_000,
    maxFiles: 10,
    concurrency: 2,
    queueSize: 8,
    maxBufferedBytes: 400 * 1024 * 1024,
    requestTimeoutMs: 120_000,
    uploadMinMs: 10_000,
    uploadMsPerMB: 2_000,
    maxUploadsPerClient: 4,
    shutdownGraceMs: 1_000,
    launcherPollMs: 500,
    minTokenLength: 16,
  },
  synth: { fraction: 0.5, seed: 1, jitter: 0.2, jpegQuality: 95, previewPhotos: 12 },
  geometry: { shapeVariance: 0.99, minViewPhotos: 10 },
  measurements: { hpoZ: 2, minControlSubjects: 5, minFaceSidePx: 80 },
  demo: {
    out: 'phenoface-demo',
    strength: 0.9,
    seed: 1,
    fraction: 0.5,
    full: { photosPerPerson: 6, folds: 5, repeats: 3, bootstrap: 1000, permutations: 100 },
    quick: { photosPerPerson: 4, folds: 4, repeats: 1, bootstrap: 200, permutations: 20 },
    minPeople: 8,
  },
  people: {
    minFacePx: 120,
    minScore: 0.95,
    cropFaces: 3,
    basePx: 512,
    photoPx: 400,
    detectMinFacePx: 96,
    augment: {
      rotationDeg: 8,
      scale: [0.9, 1.12],
      shift: 0.05,
      brightness: [0.85, 1.15],
      contrast: [0.85, 1.15],
      saturation: [0.8, 1.2],
      warmth: 0.06,
      blurSigma: [0, 1.2],
      jpegQuality: [80, 95],
    },
  },
});

/** A deep-partial configuration, as users give it. */
export type PartialConfig = { [K in keyof PhenofaceConfig]?: Partial<PhenofaceConfig[K]> & Record<string, unknown> };

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function merge<T>(base: T, over: unknown, path: string): T {
  if (over === undefined) return structuredClone(base);
  if (!isPlainObject(base)) {
    if (typeof over !== typeof base) {
      throw new PhenofaceError('E_CONFIG', `Invalid config "${path}": ${JSON.stringify(over)}. Should be a ${typeof base}.`);
    }
    return over as T;
  }
  if (!isPlainObject(over)) throw new PhenofaceError('E_CONFIG', `Invalid config "${path}": expected an object.`);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(over)) {
    // Own keys only: `in` would find "constructor" or "toString" on the prototype and let them pass unread.
    if (!Object.hasOwn(base, key)) {
      throw new PhenofaceError('E_CONFIG', `Unknown config key "${path ? path + '.' : ''}${key}". Should be one of: ${Object.keys(base).join(', ')}.`);
    }
  }
  for (const [key, value] of Object.entries(base)) out[key] = merge(value, over[key], path ? `${path}.${key}` : key);
  return out as T;
}

/** Merge a partial config over {@link DEFAULTS}, rejecting unknown keys and wrong types with `E_CONFIG`. */
export function resolveConfig(partial: PartialConfig = {}): PhenofaceConfig {
  const config = merge(DEFAULTS as PhenofaceConfig, partial, '');
  const d = config.detect;
  if (!(d.scaleFactor > 0 && d.scaleFactor < 1)) throw new PhenofaceError('E_CONFIG', `Invalid detect.scaleFactor: ${d.scaleFactor}. Should be in (0, 1).`);
  if (!(d.minFaceSizePx >= 12 && Number.isFinite(d.minFaceSizePx))) throw new PhenofaceError('E_CONFIG', `Invalid detect.minFaceSizePx: ${d.minFaceSizePx}. Should be a finite number >= 12 (P-Net's window).`);
  if (!(d.minFaceRatio >= 0 && d.minFaceRatio < 1)) throw new PhenofaceError('E_CONFIG', `Invalid detect.minFaceRatio: ${d.minFaceRatio}. Should be in [0, 1).`);
  const t = d.turnCheck;
  if (!(t.sideRollDeg > 0 && t.sideRollDeg <= 180)) throw new PhenofaceError('E_CONFIG', `Invalid detect.turnCheck.sideRollDeg: ${t.sideRollDeg}. Should be above 0 and at most 180 degrees (180: only a face whose points lie exactly upside down).`);
  if (!(t.cropScale >= 1.5 && t.cropScale <= 4)) throw new PhenofaceError('E_CONFIG', `Invalid detect.turnCheck.cropScale: ${t.cropScale}. Should be 1.5 to 4 face sizes (the face must fit in the crop and stay large in it).`);
  if (![t.belowScore, t.turnedScore, t.margin].every((v) => v >= 0 && v <= 1)) throw new PhenofaceError('E_CONFIG', `Invalid detect.turnCheck: belowScore ${t.belowScore}, turnedScore ${t.turnedScore}, margin ${t.margin}. Each should be in [0, 1] (0 for belowScore turns the check off).`);
  if (!(Number.isInteger(t.cropSidePx) && t.cropSidePx >= 32)) throw new PhenofaceError('E_CONFIG', `Invalid detect.turnCheck.cropSidePx: ${t.cropSidePx}. Should be a whole number of at least 32 (the face spans 1/cropScale of it, and P-Net's window is 12 px).`);
  const passes = config.landmarks.passes;
  if (passes !== 1 && passes !== 2) throw new PhenofaceError('E_CONFIG', `Invalid landmarks.passes: ${passes}. Should be 1 or 2.`);
  const alignOn = config.embed.alignOn;
  if (alignOn !== 'landmarks' && alignOn !== 'detector') throw new PhenofaceError('E_CONFIG', `Invalid embed.alignOn: "${alignOn}". Should be "landmarks" or "detector".`);
  return config;
}

/** Views in display order. */
export const VIEWS: readonly View[] = ['frontal', 'oblique', 'profile'];
