/**
 * Out-of-scope training text for the non-English intent models (label `unknown`): requests a hub hears that
 * are not smart-home commands (questions, chit-chat, other assistants' skills). For German, French and Spanish
 * the UMSAB tweets add thousands of everyday sentences; Chinese has no such corpus here, so its list is longer
 * and is crossed with topics. Hand-written for hubnlu; none of it is in the hand-written evaluation files.
 */
import { mulberry32 } from '../data/random.js';

const OOS: Readonly<Record<string, readonly string[]>> = {
  de: [
    'erzähl mir einen Witz', 'wer ist der Bundeskanzler', 'wie hoch ist der Mount Everest', 'was ist die Hauptstadt von Kanada',
    'wie geht es dir', 'guten Morgen', 'danke schön', 'wie alt bist du', 'schreib eine E-Mail an Peter', 'ruf Mama an',
    'wie viel ist 17 mal 23', 'übersetze Haus ins Englische', 'wann fährt der nächste Zug nach Köln', 'bestell mir eine Pizza',
    'wie steht es im Spiel von Bayern', 'was gibt es Neues', 'lies mir die Nachrichten vor', 'wer hat Faust geschrieben',
    'was kostet eine Bitcoin', 'empfiehl mir einen Film', 'wie koche ich Spaghetti Carbonara', 'wo ist die nächste Apotheke',
    'ich habe heute keine Lust zu arbeiten', 'das Essen war lecker', 'mein Chef nervt', 'wir fahren morgen in den Urlaub',
    'was bedeutet das Wort Gemütlichkeit', 'buch einen Tisch für zwei', 'wie weit ist es bis zum Mond', 'sing mir ein Lied vor',
    'hast du Gefühle', 'was ist der Sinn des Lebens', 'poste das auf Facebook', 'wie viele Kalorien hat ein Apfel',
  ],
  fr: [
    'raconte-moi une blague', 'qui est le président de la République', 'quelle est la hauteur de la tour Eiffel', 'quelle est la capitale du Canada',
    'comment ça va', 'bonjour', 'merci beaucoup', 'quel âge as-tu', 'envoie un mail à Pierre', 'appelle maman',
    'combien font 17 fois 23', 'traduis maison en anglais', 'à quelle heure part le prochain train pour Lyon', 'commande-moi une pizza',
    'quel est le score du match du PSG', 'quoi de neuf', 'lis-moi les actualités', 'qui a écrit les Misérables',
    'combien coûte un bitcoin', 'recommande-moi un film', 'comment faire une quiche lorraine', 'où est la pharmacie la plus proche',
    "je n'ai pas envie de travailler aujourd'hui", 'le repas était délicieux', 'mon patron m’énerve', 'on part en vacances demain',
    'que veut dire le mot flâner', 'réserve une table pour deux', 'à quelle distance est la lune', 'chante-moi une chanson',
    'as-tu des sentiments', 'quel est le sens de la vie', 'publie ça sur Facebook', "combien de calories dans une pomme",
  ],
  es: [
    'cuéntame un chiste', 'quién es el presidente del gobierno', 'qué altura tiene el Everest', 'cuál es la capital de Canadá',
    'cómo estás', 'buenos días', 'muchas gracias', 'cuántos años tienes', 'manda un correo a Pedro', 'llama a mamá',
    'cuánto es 17 por 23', 'traduce casa al inglés', 'a qué hora sale el próximo tren a Sevilla', 'pídeme una pizza',
    'cómo va el partido del Madrid', 'qué hay de nuevo', 'léeme las noticias', 'quién escribió el Quijote',
    'cuánto vale un bitcoin', 'recomiéndame una película', 'cómo se hace una tortilla de patatas', 'dónde está la farmacia más cercana',
    'hoy no tengo ganas de trabajar', 'la comida estaba buenísima', 'mi jefe me agobia', 'mañana nos vamos de vacaciones',
    'qué significa la palabra sobremesa', 'reserva una mesa para dos', 'a qué distancia está la luna', 'cántame una canción',
    'tienes sentimientos', 'cuál es el sentido de la vida', 'publica esto en Facebook', 'cuántas calorías tiene una manzana',
  ],
  'zh-cn': [
    '给我讲个笑话', '你叫什么名字', '你今年几岁了', '珠穆朗玛峰有多高', '加拿大的首都是哪里', '你好', '谢谢你', '早上好', '晚安',
    '给妈妈打电话', '帮我发一封邮件给老王', '十七乘以二十三等于多少', '把苹果翻译成英文', '下一班去上海的高铁几点开', '帮我点一份外卖',
    '今天有什么新闻', '谁写了红楼梦', '比特币多少钱', '推荐一部电影', '红烧肉怎么做', '最近的药店在哪里', '我今天不想上班',
    '晚饭很好吃', '老板太烦了', '我们明天去旅游', '这个词是什么意思', '帮我订一张两个人的桌子', '月亮离地球有多远', '唱首歌给我听',
    '你有感情吗', '人生的意义是什么', '发个朋友圈', '一个苹果有多少卡路里', '你喜欢吃什么', '今天股市怎么样', '北京到上海有多远',
    '帮我查一下快递', '背一首唐诗', '中国有多少人口', '你会说英语吗', '我好无聊啊', '明天要开会', '周末去爬山吧', '这本书真好看',
    '孩子考试考得怎么样', '我在减肥', '讲个故事吧', '你是机器人吗', '太阳为什么是圆的', '帮我算一下房贷',
  ],
};

/** Question and chit-chat frames crossed with topics (Chinese only: there is no everyday Chinese corpus here). */
const ZH_FRAMES = ['{t}是什么', '给我讲讲{t}', '你知道{t}吗', '{t}怎么样', '我想了解{t}', '关于{t}有什么新闻', '{t}好不好', '你觉得{t}怎么样', '帮我查一下{t}', '说说{t}的历史'];
const ZH_TOPICS = ['人工智能', '足球', '长城', '熊猫', '量子力学', '唐朝', '火锅', '围棋', '京剧', '黄河', '高考', '春节', '茶叶', '电动车', '五险一金', '世界杯', '股票', '咖啡', '篮球', '钢琴'];

/** Out-of-scope training sentences for a language (seeded). */
export function outOfScopeSentences(language: string, seed: number): string[] {
  const base = [...(OOS[language] ?? [])];
  if (language !== 'zh-cn') return base;
  const rand = mulberry32(seed);
  const framed = new Set<string>();
  while (framed.size < 150) framed.add(ZH_FRAMES[Math.floor(rand() * ZH_FRAMES.length)].replace('{t}', ZH_TOPICS[Math.floor(rand() * ZH_TOPICS.length)]));
  return [...base, ...framed];
}
